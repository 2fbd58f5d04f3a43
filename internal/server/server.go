package server

import (
	"log/slog"
	"net/http"

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
	// base:adapter names).
	ModelNames func() []string
	Logger     *slog.Logger
}

// Server serves the gateway, the application API and the UI.
type Server struct {
	cfg Config
	mux *http.ServeMux
}

// New returns a server over cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.gatewayRoutes()
	s.appRoutes()
	return s, nil
}

// Handler is the server's root handler.
func (s *Server) Handler() http.Handler { return s.mux }
