// Package tlstest runs an in-process Pebble ACME server for tests.
package tlstest

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
)

// Pebble is an in-process Pebble (its ca, db, va and wfe packages) whose VA
// validates HTTP-01 on HTTPPort and TLS-ALPN-01 on TLSPort of the name being
// validated (use "localhost"), with PEBBLE_VA_NOSLEEP=1.
type Pebble struct {
	Server *httptest.Server // the ACME directory is Server.URL + "/dir"
	ca     *ca.CAImpl
	orders atomic.Int32
}

// Start starts Pebble for the test; certificates live validity.
func Start(t testing.TB, httpPort, tlsPort int, validity time.Duration) *Pebble {
	t.Helper()
	os.Setenv("PEBBLE_VA_NOSLEEP", "1")
	os.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	logger := log.New(io.Discard, "", 0)
	store := db.NewMemoryStore()
	p := &Pebble{}
	p.ca = ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{
		"default": {Description: "test", ValidityPeriod: uint64(validity.Seconds())},
	})
	v := va.New(logger, httpPort, tlsPort, false, "", store)
	w := wfe.New(logger, store, v, p.ca, nil, false, false, 0, 0)
	h := w.Handler()
	p.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "order-plz") {
			p.orders.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Server.Close)
	return p
}

// Directory is the ACME directory URL.
func (p *Pebble) Directory() string { return p.Server.URL + "/dir" }

// Orders counts new-order requests (one per certificate obtained).
func (p *Pebble) Orders() int { return int(p.orders.Load()) }

// ServerRoots trusts the ACME server's own TLS certificate.
func (p *Pebble) ServerRoots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Server.Certificate())
	return pool
}

// WriteServerRoot writes the ACME server's certificate as PEM into dir (a
// [tls] ca_root file) and returns its path.
func (p *Pebble) WriteServerRoot(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "pebble-server.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Server.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// IssuingRoots trusts only the certificates Pebble issues.
func (p *Pebble) IssuingRoots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.GetRootCert(0).Cert)
	return pool
}
