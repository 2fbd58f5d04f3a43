package server

import (
	"embed"
	"io/fs"
	"net/http"
)

// web holds the UI: plain HTML, CSS and JavaScript, no build step.
//
//go:embed web
var web embed.FS

// uiRoutes serves the UI: the page at / and its files under /ui/. They
// are public; the page asks for an API key when the server has keys.
func (s *Server) uiRoutes() {
	files, _ := fs.Sub(web, "web")
	static := http.StripPrefix("/ui/", http.FileServer(http.FS(files)))
	s.mux.Handle("GET /ui/", uiHeaders(static))
	s.mux.Handle("GET /{$}", uiHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, files, "index.html")
	})))
}

// uiHeaders forbids loading anything from elsewhere and framing the UI.
func uiHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
