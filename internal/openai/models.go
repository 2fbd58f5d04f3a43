package openai

// ModelList is the body of GET /v1/models.
type ModelList struct {
	Object string  `json:"object"` // "list"
	Data   []Model `json:"data"`
}

// Model is one served model.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "model"
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// NewModel describes a model served by this process.
func NewModel(id string, created int64) Model {
	return Model{ID: id, Object: "model", Created: created, OwnedBy: "flywheel"}
}

// NewModelList lists models created at created (the server's start).
func NewModelList(ids []string, created int64) ModelList {
	l := ModelList{Object: "list", Data: make([]Model, len(ids))}
	for i, id := range ids {
		l.Data[i] = NewModel(id, created)
	}
	return l
}
