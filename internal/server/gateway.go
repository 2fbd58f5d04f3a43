package server

// gatewayRoutes registers the OpenAI-compatible API under /v1.
func (s *Server) gatewayRoutes() {}
