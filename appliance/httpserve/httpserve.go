// Package httpserve runs an http.Server on a listener the caller opened, the
// one way notekeeper's servers do it: the caller listens synchronously (so an
// address in use is reported by its Open), Serve serves in the background,
// Close shuts down within a deadline and reports how serving ended. The
// public server, the metrics listener and the operator socket use it.
//
// Package tls keeps its own small plain-HTTP server: tls imports no other
// notekeeper package, so it stays usable (and testable) on its own.
package httpserve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Timeouts of the public and metrics servers. Every one is set: a slow or
// stuck client cannot hold a connection or a goroutine forever.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second // a 2 MiB body over a slow link
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 120 * time.Second // Nylas reuses connections
	MaxHeaderBytes    = 64 << 10
)

// NewServer returns an http.Server for h with the timeouts above, logging
// its own errors (bad requests, TLS handshakes) to logger at warning level.
func NewServer(h http.Handler, logger *slog.Logger) *http.Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Running is a server serving in the background.
type Running struct {
	name   string
	srv    *http.Server
	ln     net.Listener
	secure bool
	served chan error
}

// Serve serves srv on ln in the background. With tlsConfig set the
// connections are TLS (ln is wrapped) and URL says https. name says which
// server in errors ("http", "metrics listener", "operator socket").
func Serve(name string, ln net.Listener, tlsConfig *tls.Config, srv *http.Server) *Running {
	r := &Running{name: name, srv: srv, ln: ln, secure: tlsConfig != nil, served: make(chan error, 1)}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	go func() { r.served <- srv.Serve(ln) }()
	return r
}

// Addr is the listener's address.
func (r *Running) Addr() net.Addr { return r.ln.Addr() }

// Port is the TCP port listened on; 0 for other networks.
func (r *Running) Port() int {
	if a, ok := r.ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// URL is the base URL, "https://host:port" under TLS, else "http://host:port".
func (r *Running) URL() string {
	if r.secure {
		return "https://" + r.ln.Addr().String()
	}
	return "http://" + r.ln.Addr().String()
}

// Close stops accepting connections and waits, until ctx ends, for requests
// in flight to be answered; idle keep-alive connections close at once. When
// ctx ends first the remaining connections are closed and the error says so.
// A serve error other than the shutdown itself is returned too.
func (r *Running) Close(ctx context.Context) error {
	if r == nil {
		return nil
	}
	if err := r.srv.Shutdown(ctx); err != nil {
		r.srv.Close()
		return fmt.Errorf("shut down %s: %w", r.name, err)
	}
	if err := <-r.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", r.name, err)
	}
	return nil
}
