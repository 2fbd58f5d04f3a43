package server

// appRoutes registers the application API under /api and the web UI.
func (s *Server) appRoutes() {}
