package server

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"time"
)

// opsRoutes registers the operations endpoints: liveness, readiness and
// Prometheus metrics.
func (s *Server) opsRoutes() {
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	s.mux.HandleFunc("GET /metrics", s.serveMetrics)
}

// ready reports 200 while the server takes requests: its store answers
// and it is not shutting down.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeError(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.cfg.Store.KeyCount(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "the store does not answer: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// middleware wraps every route: logging and metrics outermost (they see
// every response), then authentication and rate limits, then body limits.
func (s *Server) middleware(next http.Handler) http.Handler {
	return s.observe(s.authenticate(s.limitBody(next)))
}

// requestInfo is what the layers of the middleware tell the logging layer
// about a request.
type requestInfo struct {
	route string // the pattern that serves it
	key   string // the API key's name
}

type requestInfoKey struct{}

// routeOf is the pattern of the route that serves the request in ctx.
func routeOf(ctx context.Context) string {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info.route
	}
	return ""
}

// setKeyName records the caller's key name for the request log.
func setKeyName(ctx context.Context, name string) {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		info.key = name
	}
}

// observe logs every request as one JSON line (method, path, route,
// status, duration, bytes, key name — never the key) and counts it in the
// latency histogram of its route and status. A handler's panic becomes a
// 500.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		_, route := s.mux.Handler(r)
		if route == "" {
			route = "unmatched"
		}
		info := &requestInfo{route: route}
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.cfg.Logger.Error("handler panic", "route", route, "panic", fmt.Sprint(p))
				if rec.status == 0 {
					writeError(rec, http.StatusInternalServerError, "internal error: the server logged the cause")
				}
			}
			s.logRequest(r, rec, info, time.Since(start))
		}()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
	})
}

func (s *Server) logRequest(r *http.Request, rec *recorder, info *requestInfo, d time.Duration) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	s.metrics.observeRequest(info.route, status, d)
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case info.route == "GET /healthz" || info.route == "GET /readyz" || info.route == "GET /metrics":
		level = slog.LevelDebug
	}
	s.cfg.Logger.LogAttrs(r.Context(), level, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("route", info.route),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.Int64("bytes", rec.bytes),
		slog.String("key", info.key),
		slog.String("remote", r.RemoteAddr),
	)
}

// recorder is a ResponseWriter that remembers the status and size of the
// response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Flush sends buffered data (server-sent events).
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// limitBody bounds request bodies: Limits.MaxUpload for multipart uploads,
// Limits.MaxBody for the rest. A body declared too large gets 413 at once;
// one that grows past the limit fails its read (see writeBodyError).
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.cfg.Limits.MaxBody
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
			limit = s.cfg.Limits.MaxUpload
		}
		if r.ContentLength > limit {
			writeBodyError(w, &http.MaxBytesError{Limit: limit})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}
