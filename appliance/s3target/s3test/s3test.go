// Package s3test runs a real S3 server for tests: versitygw
// (github.com/versity/versitygw) with its posix backend in a temporary
// directory, on a free loopback port, with test credentials and one
// bucket. Install it with Install:
//
//	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
//
// Without the binary a test is skipped, except with CI=true, where it
// fails: CI must never pass by skipping the S3 tests.
package s3test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/notekeeper/notekeeper/appliance/s3target"
)

// Install is how to get versitygw, at the version CI installs.
const Install = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// Test credentials and bucket of every Server.
const (
	AccessKey = "notekeeper-test"
	SecretKey = "notekeeper-test-secret-key"
	Bucket    = "archive"
	Region    = "us-east-1"
)

// Server is a running versitygw.
type Server struct {
	Addr string // host:port
	Root string // the posix backend's directory

	tb  testing.TB
	bin string
	cmd *exec.Cmd
}

// Binary finds versitygw on PATH or in $(go env GOPATH)/bin, or skips (fails
// with CI=true) the test.
func Binary(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	if p := filepath.Join(gopath, "bin", "versitygw"); gopath != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "versitygw not found (" + Install + ")"
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg + ": with CI=true the S3 tests must run")
	}
	tb.Skip(msg)
	return ""
}

// Start runs versitygw for the test, creates Bucket, and stops it at
// cleanup.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{tb: tb, bin: Binary(tb), Root: tb.TempDir(), Addr: FreeAddr(tb)}
	s.Restart()
	tb.Cleanup(s.Stop)
	if err := s.Client(AccessKey, SecretKey).MakeBucket(context.Background(), Bucket, minio.MakeBucketOptions{Region: Region}); err != nil {
		tb.Fatalf("make bucket: %v", err)
	}
	return s
}

// FreeAddr returns a loopback address with a port free right now.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Restart starts the server (again) on the same address and data, and
// waits until it answers.
func (s *Server) Restart() {
	s.tb.Helper()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command(s.bin, "--port", s.Addr, "--access", AccessKey, "--secret", SecretKey, "--region", Region, "--quiet", "posix", s.Root)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("start versitygw: %v", err)
	}
	s.cmd = cmd
	c := s.Client(AccessKey, SecretKey)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.ListBuckets(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.Stop()
			s.tb.Fatalf("versitygw did not answer on %s: %v", s.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server (idempotent); Restart brings it back.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// Endpoint is the server's URL.
func (s *Server) Endpoint() string { return "http://" + s.Addr }

// Client returns a path-style client with the given credentials.
func (s *Server) Client(access, secret string) *minio.Client {
	s.tb.Helper()
	c, err := minio.New(s.Addr, &minio.Options{Creds: credentials.NewStaticV4(access, secret, ""), Region: Region,
		BucketLookup: minio.BucketLookupPath, MaxRetries: 1})
	if err != nil {
		s.tb.Fatal(err)
	}
	return c
}

// Proxy is a TCP relay in front of a server whose throughput toward the
// server can be limited, to catch an upload in the middle.
type Proxy struct {
	Addr string

	ln     net.Listener
	target string
	mu     sync.Mutex
	rate   int // bytes per second client→server, 0 = unlimited
	conns  map[net.Conn]bool
	closed bool
}

// NewProxy relays a loopback port to target until cleanup.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	tb.Cleanup(p.Close)
	return p
}

// Endpoint is the proxy's URL.
func (p *Proxy) Endpoint() string { return "http://" + p.Addr }

// SetRate limits client→server bytes per second (0: unlimited).
func (p *Proxy) SetRate(bps int) {
	p.mu.Lock()
	p.rate = bps
	p.mu.Unlock()
}

// Close stops accepting and cuts every relayed connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c) || !p.track(up) {
			c.Close()
			up.Close()
			continue
		}
		go func() { p.copyLimited(up, c); up.Close(); c.Close() }()
		go func() { io.Copy(c, up); up.Close(); c.Close() }()
	}
}

// copyLimited copies src to dst in 32 KiB chunks, pacing to the rate.
func (p *Proxy) copyLimited(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			rate := p.rate
			p.mu.Unlock()
			if rate > 0 {
				time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return
			}
			if tc, ok := dst.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
			return
		}
	}
}

// String describes the server for messages.
func (s *Server) String() string { return fmt.Sprintf("versitygw %s (%s)", s.Addr, s.Root) }

// OpenBucket returns an s3target.Bucket on the test bucket at endpoint
// (usually a Server's URL, or a relay in front of it) with object keys under
// prefix, signing with secret (SecretKey, or a wrong one to test refusals).
func OpenBucket(tb testing.TB, endpoint, secret, prefix string) *s3target.Bucket {
	tb.Helper()
	b, err := s3target.New(s3target.Config{Endpoint: endpoint, Region: Region, Bucket: Bucket,
		Prefix: prefix, AccessKey: AccessKey, SecretKey: secret, PathStyle: true})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
