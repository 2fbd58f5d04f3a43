package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"flywheel/internal/answer"
	"flywheel/internal/feedback"
	"flywheel/internal/prompt"
	"flywheel/internal/store"
)

// maxQuestion bounds a question's length in bytes.
const maxQuestion = 4000

// askRequest is the body of POST /api/ask.
type askRequest struct {
	Collection string `json:"collection"`
	Question   string `json:"question"`
	Stream     bool   `json:"stream"`
}

// check validates the request; it returns the field at fault and why.
func (q *askRequest) check() (field, msg string) {
	q.Question = strings.TrimSpace(q.Question)
	switch {
	case q.Collection == "":
		return "collection", `field "collection" is missing: name the collection to answer from`
	case q.Question == "":
		return "question", `field "question" is missing or empty: ask a question`
	case len(q.Question) > maxQuestion:
		return "question", fmt.Sprintf("the question is %d bytes, over the limit of %d: ask a shorter question", len(q.Question), maxQuestion)
	case !utf8.ValidString(q.Question):
		return "question", "the question is not valid UTF-8"
	}
	return "", ""
}

// askResponse is an answer as /api/ask returns it: the pipeline's answer
// with the ID that feedback refers to.
type askResponse struct {
	AnswerID   string `json:"answer_id"`
	Collection string `json:"collection"`
	*answer.Answer
}

// ask is POST /api/ask {"collection", "question", "stream"}. The answer
// is stored, so that feedback can name it by answer_id. With stream the
// response is server-sent events: {"type":"delta","text"} as the answer
// is written, {"type":"replace","reason"} when self-correction starts
// over, then {"type":"answer", ...the full answer} and [DONE].
func (s *Server) ask(w http.ResponseWriter, r *http.Request) {
	var req askRequest
	if !readJSON(w, r, &req) {
		return
	}
	if field, msg := req.check(); field != "" {
		writeErrorParam(w, http.StatusBadRequest, msg, field, "")
		return
	}
	info, ok := s.visibleCollection(w, r, req.Collection)
	if !ok {
		return
	}
	key, _ := Identity(r.Context())
	q := answer.Question{Text: req.Question, Key: key}
	var es *eventStream
	if req.Stream {
		es = newEventStream(w)
		q.Stream = func(d string) error { return es.send(map[string]string{"type": "delta", "text": d}) }
		q.Replace = func(reason string) error { return es.send(map[string]string{"type": "replace", "reason": reason}) }
	}
	var a *answer.Answer
	err := s.queue.do(r.Context(), func(ctx context.Context) error {
		var err error
		a, err = s.answer(ctx, info, q)
		return err
	})
	if err == nil {
		err = s.storeAnswer(r.Context(), info.Name, key, a)
	}
	switch {
	case err != nil && es != nil && es.started:
		es.fail(err)
	case err != nil:
		s.writeAskError(w, err)
	case es != nil:
		es.send(struct {
			Type string `json:"type"`
			askResponse
		}{"answer", askResponse{a.ID, info.Name, a}})
		es.done()
	default:
		writeJSON(w, http.StatusOK, askResponse{a.ID, info.Name, a})
	}
}

// answer runs the pipeline over the collection, holding it for reading.
func (s *Server) answer(ctx context.Context, info store.Collection, q answer.Question) (*answer.Answer, error) {
	c, release, err := s.app.read(ctx, info)
	if err != nil {
		return nil, fmt.Errorf("opening collection %q: %w", info.Name, err)
	}
	defer release()
	p := s.cfg.Answer.Pipeline
	p.Retriever = c.Retriever()
	if p.Model == nil {
		p.Model = s.cfg.Model
	}
	if s.cfg.Answer.FewShot && p.Model != nil && p.Examples == nil {
		p.Examples = &prompt.NGramOverlap{Examples: s.feedbackExamples(info.Name)}
	}
	return p.Ask(ctx, q)
}

// feedbackExamples supplies worked examples from a collection's feedback:
// the corrections and well-rated answers that an SFT export would hold.
func (s *Server) feedbackExamples(collection string) prompt.ExampleSource {
	return func(ctx context.Context) ([]prompt.Example, error) {
		recs, err := s.feedbackRecords(ctx, store.FeedbackQuery{AnyOwner: true, Collection: collection})
		if err != nil {
			return nil, err
		}
		picked := feedback.SFT(recs, feedback.Thresholds{})
		out := make([]prompt.Example, len(picked))
		for i, ex := range picked {
			out[i] = prompt.Example{Input: ex.Question, Output: ex.Response}
		}
		return out, nil
	}
}

// storeAnswer keeps an answer for feedback; it is committed before the
// client sees its ID.
func (s *Server) storeAnswer(ctx context.Context, coll, owner string, a *answer.Answer) error {
	citations, err := json.Marshal(a.Citations)
	if err != nil {
		return err
	}
	_, err = s.cfg.Store.PutAnswer(context.WithoutCancel(ctx), store.Answer{ID: a.ID, Owner: owner, Collection: coll,
		Question: a.Question, Text: a.Text, Citations: citations, Confidence: a.Confidence, Model: a.Model,
		Created: time.Now()})
	return err
}

// writeAskError answers a failed question: the generation errors as the
// gateway answers them.
func (s *Server) writeAskError(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	s.writeGenerationError(w, err)
}

// getAnswer is GET /api/answers/{id}: a stored answer, for its owner.
func (s *Server) getAnswer(w http.ResponseWriter, r *http.Request) {
	a, ok := s.visibleAnswer(w, r, r.PathValue("id"))
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, answerJSON(a))
}

// visibleAnswer returns the stored answer id if the caller may see it;
// otherwise it writes 404 and returns false.
func (s *Server) visibleAnswer(w http.ResponseWriter, r *http.Request, id string) (store.Answer, bool) {
	a, err := s.cfg.Store.Answer(r.Context(), id)
	if err == nil && !visible(r.Context(), a.Owner) {
		err = errNotVisible
	}
	switch {
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, errNotVisible):
		writeErrorParam(w, http.StatusNotFound, fmt.Sprintf("answer %q not found: use the answer_id that POST /api/ask returned", id), "answer_id", "")
		return store.Answer{}, false
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return store.Answer{}, false
	}
	return a, true
}

// storedAnswerJSON is a stored answer as the API shows it.
type storedAnswerJSON struct {
	AnswerID   string            `json:"answer_id"`
	Owner      string            `json:"owner"`
	Collection string            `json:"collection"`
	Question   string            `json:"question"`
	Answer     string            `json:"answer"`
	Citations  []answer.Citation `json:"citations"`
	Confidence float64           `json:"confidence"`
	Model      string            `json:"model"`
	Created    time.Time         `json:"created"`
}

func answerJSON(a store.Answer) storedAnswerJSON {
	out := storedAnswerJSON{AnswerID: a.ID, Owner: a.Owner, Collection: a.Collection, Question: a.Question,
		Answer: a.Text, Confidence: a.Confidence, Model: a.Model, Created: a.Created, Citations: []answer.Citation{}}
	json.Unmarshal(a.Citations, &out.Citations)
	return out
}
