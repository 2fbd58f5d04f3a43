package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"flywheel/internal/embed"
	"flywheel/internal/llm"
	"flywheel/internal/store"
)

// Config wires the server to its domain objects. Store is required; with
// no Model the application answers extractively and the gateway reports
// that no model is configured.
type Config struct {
	Store *store.Store
	Model llm.Model
	// ModelNames lists the names /v1/models reports (base models and
	// base:adapter names); a request naming another model gets 404. Nil
	// accepts any name and lists none.
	ModelNames func() []string
	// Embedder serves /v1/embeddings (and vectors for collections); nil
	// turns both off.
	Embedder embed.Embedder
	// EmbedModel is the name /v1/models lists for Embedder and
	// /v1/embeddings accepts ("": Embedder.Name()).
	EmbedModel string
	Logger     *slog.Logger
	Limits     Limits
	// Answer is the template of /api/ask's pipeline (see AnswerConfig).
	Answer AnswerConfig
	// Tune says what fine-tuning jobs may train (see TuneConfig).
	Tune TuneConfig
	// Adapters is the local engine whose LoRA adapters /api/adapters
	// promotes and unloads (nil: no local model, the endpoints answer
	// 501). New loads the adapters promoted before a restart, except
	// names the engine already serves.
	Adapters AdapterEngine
}

// Limits bound what clients may ask of the server. The zero value of each
// field picks its default.
type Limits struct {
	// MaxBody bounds a request body in bytes (≤ 0: 1 MiB); multipart
	// uploads have MaxUpload instead (≤ 0: 64 MiB).
	MaxBody, MaxUpload int64
	// Rate is the requests per second each API key may make, with bursts
	// of up to Burst requests (0: 10 per second; < 0: no limit; Burst ≤ 0:
	// twice Rate, at least 1). Without keys there is no limit.
	Rate  float64
	Burst int
	// Workers generations run at once and Queue more wait for one
	// (≤ 0: 4 and 64); past that a request gets 429 with Retry-After.
	Workers, Queue int
	// ShutdownTimeout is how long Serve waits for in-flight requests after
	// its context ends (≤ 0: 30 s).
	ShutdownTimeout time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxBody <= 0 {
		l.MaxBody = 1 << 20
	}
	if l.MaxUpload <= 0 {
		l.MaxUpload = 64 << 20
	}
	if l.Rate == 0 {
		l.Rate = 10
	}
	if l.Burst <= 0 {
		l.Burst = max(1, int(2*l.Rate))
	}
	if l.Workers <= 0 {
		l.Workers = 4
	}
	if l.Queue <= 0 {
		l.Queue = 64
	}
	if l.ShutdownTimeout <= 0 {
		l.ShutdownTimeout = 30 * time.Second
	}
	return l
}

// Server serves the gateway, the application API and the UI.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	handler http.Handler

	keys    *keyring
	limiter *rateLimiter
	// queue bounds concurrent generations; handlers run model calls
	// through s.queue.do.
	queue   *queue
	metrics *metrics
	// draining is set when shutdown starts: /readyz then reports 503.
	draining atomic.Bool
	// app holds the application's state: open collections, jobs.
	app *app
}

// New returns a server over cfg. cfg.Model, when set, is wrapped so that
// every completion (gateway or application) is counted in /metrics.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.EmbedModel == "" && cfg.Embedder != nil {
		cfg.EmbedModel = cfg.Embedder.Name()
	}
	cfg.Limits = cfg.Limits.withDefaults()
	s := &Server{
		mux:     http.NewServeMux(),
		keys:    newKeyring(cfg.Store),
		limiter: newRateLimiter(cfg.Limits.Rate, cfg.Limits.Burst),
		queue:   newQueue(cfg.Limits.Workers, cfg.Limits.Queue),
		metrics: newMetrics(),
	}
	if cfg.Model != nil {
		cfg.Model = s.metrics.observe(cfg.Model)
	}
	s.cfg = cfg
	s.opsRoutes()
	s.gatewayRoutes()
	s.appRoutes()
	s.handler = s.middleware(s.mux)
	return s, nil
}

// Handler is the server's root handler: every route behind request
// logging, metrics, body limits, authentication and rate limits.
func (s *Server) Handler() http.Handler { return s.handler }

// Listen opens addr ("127.0.0.1:8080", ":0"). It refuses an address other
// than loopback while no API key exists: create one first with
// `flywheel keys create`.
func (s *Server) Listen(ctx context.Context, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: listening on %s: %w", addr, err)
	}
	if isLoopback(ln.Addr()) {
		return ln, nil
	}
	n, err := s.cfg.Store.KeyCount(ctx)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("server: %w", err)
	}
	if n == 0 {
		ln.Close()
		return nil, fmt.Errorf("server: refusing to listen on %s, which other machines can reach, with no API key: anyone could use it. Create a key first (flywheel keys create --data-dir %s --name NAME --scope admin) or listen on 127.0.0.1", addr, s.cfg.Store.Dir())
	}
	return ln, nil
}

// isLoopback reports whether a listener's address is reachable only from
// this machine.
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// Serve serves on ln until ctx ends, then shuts down gracefully: it stops
// accepting connections, reports not ready, and waits up to
// Limits.ShutdownTimeout for in-flight requests (streams included) to
// finish before closing the rest.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.cfg.Logger.Info("shutting down: finishing in-flight requests", "timeout", s.cfg.Limits.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.Limits.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("server: requests still running after %s were cut off: %w", s.cfg.Limits.ShutdownTimeout, err)
	}
	<-served // http.ErrServerClosed
	return nil
}
