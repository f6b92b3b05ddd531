package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/notekeeper/notekeeper/appliance/httpserve"
)

// MetricsServer serves /metrics (and /healthz) without authentication on a
// listener of its own ([server] metrics_listen), for a Prometheus on the
// same host or a private network. Build it, set its fields, Open, Close.
type MetricsServer struct {
	Addr    string       // host:port; port 0 picks one
	Handler http.Handler // the metrics handler, e.g. Metrics.Handler
	Logger  *slog.Logger

	running *httpserve.Running
}

// Open listens synchronously and serves in the background.
func (s *MetricsServer) Open() error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("open metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.Handler)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok\n") })
	s.running = httpserve.Serve("metrics listener", ln, nil, httpserve.NewServer(mux, s.Logger))
	return nil
}

// URL is the listener's base URL, once open.
func (s *MetricsServer) URL() string {
	if s.running == nil {
		return ""
	}
	return s.running.URL()
}

// Close stops the listener, waiting until ctx ends for scrapes in flight.
func (s *MetricsServer) Close(ctx context.Context) error { return s.running.Close(ctx) }
