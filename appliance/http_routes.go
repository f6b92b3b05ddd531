package appliance

import "net/http"

// Handler returns the server's routes wrapped in its middleware. Every route
// is in this one table.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range []struct {
		pattern string
		handler http.HandlerFunc
	}{
		{"GET " + s.WebhookPath, s.handleChallenge}, // GET also matches HEAD
		{"POST " + s.WebhookPath, s.handleWebhook},
		{"GET /healthz", s.handleHealthz},
		{"GET /readyz", s.handleReadyz},
		{"GET /files/{notetaker_id}/{name}", s.handleFile}, // GET also matches HEAD
		{"GET /metrics", s.handleMetrics},
		{"/admin/", s.handleAdmin}, // any method; the admin UI checks its own
	} {
		mux.HandleFunc(r.pattern, r.handler)
	}
	return s.recoverer(jsonUnmatched(mux))
}
