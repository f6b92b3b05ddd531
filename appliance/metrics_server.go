package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
)

// MetricsServer serves /metrics (and /healthz) without authentication on a
// listener of its own ([server] metrics_listen), for a Prometheus on the
// same host or a private network. Build it, set its fields, Open, Close.
type MetricsServer struct {
	Addr    string       // host:port; port 0 picks one
	Handler http.Handler // the metrics handler, e.g. Metrics.Handler
	Logger  *slog.Logger

	ln     net.Listener
	server *http.Server
	served chan error
}

// Open listens synchronously and serves in the background.
func (s *MetricsServer) Open() error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("open metrics listener: %w", err)
	}
	logger := s.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.Handler)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok\n") })
	s.ln = ln
	s.server = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	s.served = make(chan error, 1)
	go func() { s.served <- s.server.Serve(ln) }()
	return nil
}

// URL is the listener's base URL, once open.
func (s *MetricsServer) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops the listener, waiting until ctx ends for scrapes in flight.
func (s *MetricsServer) Close(ctx context.Context) error {
	if s.server == nil {
		return nil
	}
	if err := s.server.Shutdown(ctx); err != nil {
		s.server.Close()
		return fmt.Errorf("shut down metrics listener: %w", err)
	}
	if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve metrics: %w", err)
	}
	return nil
}
