package tls_test

import (
	"context"
	stdtls "crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	apptls "github.com/notekeeper/notekeeper/tls"
	"github.com/notekeeper/notekeeper/tls/tlstest"
)

// listeners are notekeeper's HTTP and HTTPS listeners on free ports.
type listeners struct {
	http, https net.Listener
}

func freeListeners(t *testing.T) *listeners {
	t.Helper()
	h, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(); s.Close() })
	return &listeners{h, s}
}

func port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// serve runs the plain-HTTP side (challenges, else redirect) and the HTTPS
// side (the webhook challenge echo) with m's certificates.
func serve(t *testing.T, m *apptls.Manager, l *listeners) {
	app := http.NewServeMux()
	app.HandleFunc("GET /webhooks/nylas", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Query().Get("challenge"))
	})
	hs := &http.Server{Handler: m.HTTPHandler(apptls.RedirectHandler("localhost", port(l.https))), ReadHeaderTimeout: 5 * time.Second}
	ss := &http.Server{Handler: app, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(l.http)
	go ss.Serve(stdtls.NewListener(l.https, m.TLSConfig()))
	t.Cleanup(func() { hs.Close(); ss.Close() })
}

func newManager(p *tlstest.Pebble, l *listeners, storage string, challenges ...string) *apptls.Manager {
	return &apptls.Manager{
		Domain: "localhost", Email: "ops@example.com", CA: p.Directory(), Roots: p.ServerRoots(),
		StoragePath: storage, HTTPPort: port(l.http), HTTPSPort: port(l.https), Challenges: challenges,
		RenewCheckInterval: 500 * time.Millisecond,
	}
}

func httpsGet(t *testing.T, roots *x509.CertPool, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &stdtls.Config{RootCAs: roots, ServerName: "localhost"}}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestPebble_IssuesWithEachChallenge(t *testing.T) {
	for _, challenge := range []string{"http-01", "tls-alpn-01"} {
		t.Run(challenge, func(t *testing.T) {
			l := freeListeners(t)
			p := tlstest.Start(t, port(l.http), port(l.https), 24*time.Hour)
			m := newManager(p, l, t.TempDir(), challenge)
			serve(t, m, l)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := m.Open(ctx, true); err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			got := httpsGet(t, p.IssuingRoots(), "https://localhost:"+strconv.Itoa(port(l.https))+"/webhooks/nylas?challenge=pebble-ok")
			if got != "pebble-ok" {
				t.Fatalf("challenge over HTTPS: %q", got)
			}
			if notAfter, err := m.Status(); err != nil || notAfter.Before(time.Now().Add(23*time.Hour)) {
				t.Fatalf("status %v %v", notAfter, err)
			}
			if err := m.Check(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPebble_RenewsShortLivedCertificate(t *testing.T) {
	l := freeListeners(t)
	p := tlstest.Start(t, port(l.http), port(l.https), 12*time.Second)
	m := newManager(p, l, t.TempDir())
	serve(t, m, l)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := m.Open(ctx, true); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	first, _ := m.Status()
	deadline := time.Now().Add(30 * time.Second)
	for {
		now, err := m.Status()
		if now.After(first) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not renewed: still %v (last error %v)", first, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if p.Orders() < 2 {
		t.Fatalf("%d orders, want a renewal order", p.Orders())
	}
}

func TestPebble_RestartReusesStoredCertificate(t *testing.T) {
	l := freeListeners(t)
	p := tlstest.Start(t, port(l.http), port(l.https), 24*time.Hour)
	storage := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	first := newManager(p, l, storage)
	serve(t, first, l)
	if err := first.Open(ctx, true); err != nil {
		t.Fatal(err)
	}
	firstNotAfter, _ := first.Status()
	first.Close()
	if p.Orders() != 1 {
		t.Fatalf("%d orders for the first certificate", p.Orders())
	}

	// A new process: new listeners, same storage.
	l2 := freeListeners(t)
	second := newManager(p, l2, storage)
	serve(t, second, l2)
	if err := second.Open(ctx, true); err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if n := p.Orders(); n != 1 {
		t.Fatalf("%d orders: the restart asked the CA again", n)
	}
	if notAfter, _ := second.Status(); !notAfter.Equal(firstNotAfter) {
		t.Fatalf("restart loaded %v, stored was %v", notAfter, firstNotAfter)
	}
	if got := httpsGet(t, p.IssuingRoots(), "https://localhost:"+strconv.Itoa(port(l2.https))+"/webhooks/nylas?challenge=again"); got != "again" {
		t.Fatalf("after restart: %q", got)
	}
}
