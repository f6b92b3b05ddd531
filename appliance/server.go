// Package appliance is notekeeper's application: the HTTP server and its
// webhook receiver, the worker pool that runs durable tasks, and the steps of
// the pipeline those tasks form: records, the media archive, CRM and ATS
// deliveries and alerts (pipeline.go shows the whole flow).
//
// The layers, outside in:
//
//	Server     HTTP: route table (http_routes.go), middleware, error → status mapping
//	Receiver   verify → bound → parse → store.Ingest (durable before 200)
//	envelope   which task a notification implies (one per Notetaker/booking/grant)
//	Pool       leases due tasks from the store, runs Handlers, retries, dead-letters
//	Pipeline   task kind → handler, and which task a finished one enqueues
//	Records    merge notifications into Notetaker/booking/grant records
//	Archiver   download media into the data dir (or S3); its jobs
//	CRM, ATS   deliver archived meetings and bookings
//	Alerter    deliver alerts to their sinks
//
// Everything durable lives in package store; this package holds no state of
// its own that a restart could lose.
package appliance

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/httpserve"
	"github.com/notekeeper/notekeeper/appliance/links"
)

// Server is notekeeper's HTTP server. Build it with NewServer, set its
// fields, then Open (which listens synchronously) and finally Close.
type Server struct {
	// Addr is the address to listen on, "host:port"; port 0 picks one.
	Addr string
	// Listener, when set, is used instead of listening on Addr (systemd
	// socket activation, the HTTPS port, tests).
	Listener net.Listener
	// TLSConfig, when set, makes the server speak TLS (automatic HTTPS);
	// URL then says https.
	TLSConfig *tls.Config
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
	// auth (an unauthenticated copy is MetricsServer's). Without it /metrics
	// is 404.
	Metrics http.Handler
	Logger  *slog.Logger

	// Admin serves /admin/ (package admin); nil answers 404 there.
	Admin http.Handler

	running *httpserve.Running
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
	ln := s.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.Addr); err != nil {
			return fmt.Errorf("open server: %w", err)
		}
	}
	s.running = httpserve.Serve("http", ln, s.TLSConfig, httpserve.NewServer(s.Handler(), s.Logger))
	return nil
}

// Port is the port the server listens on, once open.
func (s *Server) Port() int {
	if s.running == nil {
		return 0
	}
	return s.running.Port()
}

// URL is the server's base URL, once open: https:// under TLS.
func (s *Server) URL() string {
	if s.running == nil {
		return ""
	}
	return s.running.URL()
}

// Close stops accepting connections and waits, until ctx ends, for requests
// in flight to be answered. Idle keep-alive connections are closed at once.
func (s *Server) Close(ctx context.Context) error { return s.running.Close(ctx) }
