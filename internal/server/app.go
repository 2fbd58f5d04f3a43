package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"flywheel/internal/answer"
	"flywheel/internal/collection"
	"flywheel/internal/store"
)

// AnswerConfig configures /api/ask. The zero value answers with
// Config.Model (extractively without one), the embedded prompt templates
// and the pipeline's defaults.
type AnswerConfig struct {
	// Pipeline is copied for every question: its Retriever is the
	// collection's, and a nil Model is Config.Model. Its Prompts and
	// Template also format the examples that feedback exports.
	Pipeline answer.Pipeline
	// EmbedKeyEnv names the environment variable holding the key of a
	// collection's remote embedding endpoint ("": OPENAI_API_KEY).
	EmbedKeyEnv string
	// FewShot, with a model, puts worked examples from the collection's
	// feedback into each prompt (Pipeline.Shots of them, default 2): the
	// corrections and well-rated answers whose questions overlap the new
	// one most. The examples are read when a question comes, so new
	// feedback counts at once.
	FewShot bool
}

// app is the application's state: the collections open for search and
// ingest, and the jobs.
type app struct {
	s *Server

	mu   sync.Mutex
	open map[string]*openCollection

	jobs *jobRunner
	// adapters are the promoted LoRA adapters (see Config.Adapters).
	adapters *adapterRegistry
}

// openCollection is a collection open for the server's lifetime. Ingest
// and delete hold its lock for writing, searches for reading.
type openCollection struct {
	mu    sync.RWMutex
	ready chan struct{} // closed once opened (c or err set)
	c     *collection.Collection
	err   error
}

// appRoutes registers the application API under /api and the web UI.
func (s *Server) appRoutes() {
	s.app = &app{s: s, open: map[string]*openCollection{}}
	s.app.jobs = newJobRunner(s)
	s.app.adapters = newAdapterRegistry(s)
	routes := []struct {
		pattern string
		handler http.HandlerFunc
	}{
		{"POST /api/collections", s.createCollection},
		{"GET /api/collections", s.listCollections},
		{"GET /api/collections/{name}", s.getCollection},
		{"DELETE /api/collections/{name}", s.deleteCollection},
		{"POST /api/collections/{name}/documents", s.uploadDocument},
		{"GET /api/collections/{name}/documents", s.listDocuments},
		{"GET /api/collections/{name}/documents/{doc_id}", s.getDocument},
		{"POST /api/ask", s.ask},
		{"GET /api/answers/{id}", s.getAnswer},
		{"POST /api/feedback", s.addFeedback},
		{"GET /api/feedback", s.listFeedback},
		{"GET /api/feedback/export", s.exportFeedback},
		{"POST /api/jobs", s.createJob},
		{"GET /api/jobs", s.listJobs},
		{"GET /api/jobs/{id}", s.getJob},
		{"GET /api/jobs/{id}/events", s.jobEvents},
		{"POST /api/jobs/{id}/cancel", s.cancelJob},
		{"POST /api/jobs/{id}/resume", s.resumeJob},
		{"GET /api/evals", s.listEvals},
		{"GET /api/adapters", s.listAdapters},
		{"POST /api/adapters", s.promoteAdapter},
		{"DELETE /api/adapters/{name}", s.unloadAdapter},
		{"GET /api/evals/{name}/{file}", s.getEvalReport},
	}
	for _, r := range routes {
		s.mux.HandleFunc(r.pattern, r.handler)
	}
	s.mux.HandleFunc("/api/", s.apiNotFound)
	s.uiRoutes()
}

// Close stops the jobs in progress, each saving a checkpoint that a
// restarted server resumes from, and waits for them. Call it after Serve
// returns.
func (s *Server) Close() error {
	s.app.jobs.close()
	return nil
}

// apiNotFound answers a path or method the API does not serve.
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/api/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s does not take %s: use %s", r.URL.Path, r.Method, strings.Join(allowed, " or ")))
		return
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s %s: README's \"Application API\" lists them", r.Method, r.URL.Path))
}

// visible reports whether the caller in ctx may see what owner owns:
// its own things, and everything for an admin.
func visible(ctx context.Context, owner string) bool {
	name, admin := Identity(ctx)
	return admin || owner == name
}

// errNotVisible is the error of a collection that does not exist or that
// the caller may not see: the two look the same from outside.
var errNotVisible = errors.New("not found")

// visibleCollection returns the named collection if the caller may see
// it; otherwise it writes 404 and returns false.
func (s *Server) visibleCollection(w http.ResponseWriter, r *http.Request, name string) (store.Collection, bool) {
	info, err := s.cfg.Store.Collection(r.Context(), name)
	if err == nil && !visible(r.Context(), info.Owner) {
		err = errNotVisible
	}
	switch {
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, errNotVisible):
		writeError(w, http.StatusNotFound, fmt.Sprintf("collection %q not found: GET /api/collections lists yours", name))
		return store.Collection{}, false
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return store.Collection{}, false
	}
	return info, true
}

// collection opens the named collection once and caches it; concurrent
// first uses wait for the one open.
func (a *app) collection(ctx context.Context, name string) (*openCollection, error) {
	a.mu.Lock()
	oc := a.open[name]
	if oc == nil {
		oc = &openCollection{ready: make(chan struct{})}
		a.open[name] = oc
		a.mu.Unlock()
		oc.c, oc.err = a.openCollection(ctx, name)
		close(oc.ready)
		if oc.err != nil {
			a.forget(name, oc)
		}
		return oc, oc.err
	}
	a.mu.Unlock()
	select {
	case <-oc.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return oc, oc.err
}

// openCollection opens a collection with its vector index when it has
// an embedding model; a vector index that cannot open leaves it BM25-only
// (logged).
func (a *app) openCollection(ctx context.Context, name string) (*collection.Collection, error) {
	log := a.s.cfg.Logger.With("collection", name)
	ev := collection.Events{Notice: func(msg string) { log.Warn(msg) }}
	c, err := collection.Open(context.WithoutCancel(ctx), a.s.cfg.Store, name, ev)
	if err != nil || c.Info().Embed.IsZero() {
		return c, err
	}
	keyEnv := a.s.cfg.Answer.EmbedKeyEnv
	if keyEnv == "" {
		keyEnv = "OPENAI_API_KEY"
	}
	if verr := c.OpenVectors(context.WithoutCancel(ctx), store.EmbedConfig{}, keyEnv); verr != nil {
		log.Warn("vector search is off for this collection", "error", verr.Error())
		return collection.Open(context.WithoutCancel(ctx), a.s.cfg.Store, name, ev)
	}
	return c, nil
}

// read opens the collection of info for searching: it holds the
// collection's read lock until release is called. An index behind the
// store (another process ingested) is reopened first.
func (a *app) read(ctx context.Context, info store.Collection) (c *collection.Collection, release func(), err error) {
	oc, err := a.collection(ctx, info.Name)
	if err != nil {
		return nil, nil, err
	}
	oc.mu.RLock()
	if oc.c.BM25().Generation >= info.Generation {
		return oc.c, oc.mu.RUnlock, nil
	}
	oc.mu.RUnlock()
	oc.mu.Lock()
	if oc.c.BM25().Generation < info.Generation {
		c, err := a.openCollection(ctx, info.Name)
		if err != nil {
			oc.mu.Unlock()
			return nil, nil, err
		}
		oc.c = c
	}
	oc.mu.Unlock()
	return a.read(ctx, info)
}

// write opens the named collection for ingest or delete: it holds the
// collection's write lock until release is called.
func (a *app) write(ctx context.Context, name string) (oc *openCollection, release func(), err error) {
	oc, err = a.collection(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	oc.mu.Lock()
	return oc, oc.mu.Unlock, nil
}

// forget drops a collection from the cache (after a failed open or a
// delete), if oc is still the cached one.
func (a *app) forget(name string, oc *openCollection) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.open[name] == oc {
		delete(a.open, name)
	}
}
