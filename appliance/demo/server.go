package demo

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// maxRequestBody bounds every request body the demo's servers read.
const maxRequestBody = 1 << 20

// server is an HTTP server on a free 127.0.0.1 port.
type server struct {
	ln  net.Listener
	srv *http.Server
	wg  sync.WaitGroup
}

// open listens on a free loopback port and serves h in a goroutine.
func (s *server) open(name string, h http.Handler) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("%s: listen: %w", name, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	s.wg.Go(func() { s.srv.Serve(ln) })
	return nil
}

// url is http://127.0.0.1:PORT, or "" before open.
func (s *server) url() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// close stops the server at once, closing every connection, and waits for
// Serve to return. The demo closes its stand-ins after the appliance, so no
// request is in flight by then; a graceful Shutdown would only wait for
// connections an HTTP client dialled and never used (up to 5 s).
func (s *server) close() error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Close()
	s.wg.Wait()
	return err
}
