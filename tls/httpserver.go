package tls

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// HTTPServer is the plain-HTTP side of a domain: ACME HTTP-01 answers,
// /healthz, and a 308 to HTTPS for everything else (RedirectHandler). Build it with
// its fields, Open (listens synchronously), Close.
type HTTPServer struct {
	Addr      string // ":80", or ":0" in tests
	Manager   *Manager
	Domain    string
	HTTPSPort int

	ln  net.Listener
	srv *http.Server
}

// Open listens and serves in the background.
func (s *HTTPServer) Open() error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("open http listener: %w", err)
	}
	s.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.Handle("/", s.Manager.HTTPHandler(RedirectHandler(s.Domain, s.HTTPSPort)))
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	go s.srv.Serve(ln)
	return nil
}

// Port is the port listened on, once open.
func (s *HTTPServer) Port() int {
	if s.ln == nil {
		return 0
	}
	return s.ln.Addr().(*net.TCPAddr).Port
}

// Close stops the server, waiting for requests in flight until ctx ends.
func (s *HTTPServer) Close(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.srv.Close()
		return fmt.Errorf("shut down http listener: %w", err)
	}
	return nil
}
