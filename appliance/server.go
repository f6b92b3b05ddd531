// Package appliance is notekeeper's application: the HTTP server and its
// webhook receiver, the worker pool that runs durable tasks, and the handlers
// that turn Nylas notifications into records (and, in later layers, archives,
// CRM/ATS deliveries and alerts).
//
// The layers, outside in:
//
//	Server    HTTP: route table, middleware, error → status mapping
//	Receiver  verify → bound → parse → store.Ingest (durable before 200)
//	Route     which task a notification implies (one per Notetaker/booking/grant)
//	Pool      leases due tasks from the store, runs Handlers, retries, dead-letters
//	Records   Handlers merging notifications into Notetaker/booking/grant records
//
// Everything durable lives in package store; this package holds no state of
// its own that a restart could lose.
package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/links"
)

// Server timeouts. Every one is set: a slow or stuck client cannot hold a
// connection or a goroutine forever.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second // a 2 MiB body over a slow link
	writeTimeout      = 30 * time.Second
	idleTimeout       = 120 * time.Second // Nylas reuses connections
	maxHeaderBytes    = 64 << 10
)

// Server is notekeeper's HTTP server. Build it with NewServer, set its
// fields, then Open (which listens synchronously) and finally Close.
type Server struct {
	// Addr is the address to listen on, "host:port"; port 0 picks one.
	Addr string
	// Listener, when set, is used instead of listening on Addr (systemd
	// socket activation, TLS listeners, tests).
	Listener net.Listener
	// WebhookPath is where Nylas sends notifications and challenges.
	WebhookPath string
	Receiver    *Receiver
	// Checks are run by /readyz; any error makes it answer 503 with the reasons.
	Checks []Check
	// Links checks /files links; DataDir is where the archive lives. Without
	// Links every /files request is refused.
	Links   *links.Signer
	DataDir string
	// Target, when set, serves files whose local copy was replaced by an
	// object ([archive] target = "s3"): the link redirects to a short-lived
	// presigned URL. Links handed out before a switch keep working.
	Target archive.Target
	// Metrics serves GET /metrics; main wraps it in the admin users' basic
	// auth (SPEC §4). Without it /metrics is 404.
	Metrics http.Handler
	Logger  *slog.Logger

	// Admin serves /admin/ (package admin); nil answers 404 there.
	Admin http.Handler

	ln     net.Listener
	server *http.Server
	served chan error
}

// Check is one readiness condition.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// NewServer returns a Server with defaults; set Receiver before Open.
func NewServer() *Server {
	return &Server{
		Addr:        "127.0.0.1:8080",
		WebhookPath: "/webhooks/nylas",
		Logger:      slog.New(slog.DiscardHandler),
	}
}

// Open starts listening (synchronously, so an address in use is reported
// here) and serves in the background.
func (s *Server) Open() error {
	if s.Receiver == nil {
		return errors.New("open server: no receiver")
	}
	s.ln = s.Listener
	if s.ln == nil {
		ln, err := net.Listen("tcp", s.Addr)
		if err != nil {
			return fmt.Errorf("open server: %w", err)
		}
		s.ln = ln
	}
	s.server = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}
	s.served = make(chan error, 1)
	go func() { s.served <- s.server.Serve(s.ln) }()
	return nil
}

// Port is the port the server listens on, once open.
func (s *Server) Port() int {
	if s.ln == nil {
		return 0
	}
	return s.ln.Addr().(*net.TCPAddr).Port
}

// URL is the server's base URL, once open.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops accepting connections and waits, until ctx ends, for requests
// in flight to be answered. Idle keep-alive connections are closed at once.
func (s *Server) Close(ctx context.Context) error {
	if s.server == nil {
		return nil
	}
	if err := s.server.Shutdown(ctx); err != nil {
		s.server.Close()
		return fmt.Errorf("shut down http: %w", err)
	}
	if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	return nil
}
