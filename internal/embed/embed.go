package embed

import (
	"context"
	"errors"
	"fmt"

	"flywheel/internal/bert"
)

// Embedder turns texts into vectors of one dimension.
type Embedder interface {
	// Embed returns one vector per text, in order.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Dim is the vector length; 0 when not known before the first call.
	Dim() int
	// Name says which model makes the vectors (for logs and index metadata).
	Name() string
}

// ErrNotConfigured is returned by New when no embedding model is set.
var ErrNotConfigured = errors.New("no embedding model configured (set a local model path or an embeddings URL); vector search is off")

// Config selects an embedder: Model (a local encoder) or URL (a remote
// endpoint), not both.
type Config struct {
	Model   string       // Hugging Face BERT directory or GGUF file
	Threads int          // workers of the local encoder's matrix products (0 or 1: one)
	Remote  RemoteConfig // used when Remote.URL is set
}

// New returns the embedder cfg describes, or ErrNotConfigured.
func New(cfg Config) (Embedder, error) {
	switch {
	case cfg.Model != "" && cfg.Remote.URL != "":
		return nil, fmt.Errorf("embed: both a local model (%s) and an embeddings URL (%s) are set; choose one", cfg.Model, cfg.Remote.URL)
	case cfg.Model != "":
		l, err := LoadLocal(cfg.Model)
		if err != nil {
			return nil, err
		}
		l.model.SetThreads(cfg.Threads)
		return l, nil
	case cfg.Remote.URL != "":
		return NewRemote(cfg.Remote)
	}
	return nil, ErrNotConfigured
}

// Local embeds with a BERT-family encoder in this process.
type Local struct {
	model *bert.Model
	name  string
}

// NewLocal wraps a loaded encoder; name labels it.
func NewLocal(m *bert.Model, name string) *Local { return &Local{model: m, name: name} }

// LoadLocal loads the encoder at path (see bert.Load).
func LoadLocal(path string) (*Local, error) {
	m, err := bert.Load(path)
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	if m.Tokenizer == nil {
		m.Close()
		return nil, fmt.Errorf("embed: %s has no tokenizer (tokenizer.json or GGUF vocabulary)", path)
	}
	return &Local{model: m, name: path}, nil
}

// Embed encodes each text in turn; ctx is checked between texts.
func (l *Local) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v, err := l.model.Embed(t)
		if err != nil {
			return nil, fmt.Errorf("embed: text %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

func (l *Local) Dim() int     { return l.model.Dim() }
func (l *Local) Name() string { return l.name }
func (l *Local) Close() error { return l.model.Close() }
