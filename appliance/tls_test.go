package appliance_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/store/storetest"
)

// selfSigned makes a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "notekeeper test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// openTLS serves the appliance over TLS as the daemon does with a domain:
// the server's own listener wrapped by crypto/tls.NewListener.
func openTLS(t *testing.T) (*appliance.Server, *http.Client, string) {
	t.Helper()
	cert, pool := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.MustOpen(t)
	s := appliance.NewServer()
	s.Listener = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}})
	s.Receiver = &appliance.Receiver{DB: db, Verifier: appliance.NewVerifier(testSecret), MaxBodyBytes: testMaxBody, Logger: s.Logger}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	t.Cleanup(client.CloseIdleConnections)
	return s, client, "https://" + ln.Addr().String()
}

// healthz times one GET /healthz.
func healthz(t *testing.T, client *http.Client, base string) time.Duration {
	t.Helper()
	start := time.Now()
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("healthz over TLS: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz over TLS: %d", resp.StatusCode)
	}
	return time.Since(start)
}

// TestTLS_StalledHandshakesDoNotHoldTheServer: clients that connect and
// send nothing, or half a ClientHello, neither block other clients nor keep
// their connection: the server drops them once the handshake timeout
// (ReadHeaderTimeout, 10 s) passes.
func TestTLS_StalledHandshakesDoNotHoldTheServer(t *testing.T) {
	t.Parallel()
	_, client, base := openTLS(t)
	addr := base[len("https://"):]
	var stalled []net.Conn
	for i := range 50 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if i%2 == 1 {
			c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}) // a record header promising 512 bytes, then nothing
		}
		stalled = append(stalled, c)
	}
	if d := healthz(t, client, base); d > 2*time.Second {
		t.Errorf("healthz took %v beside 50 stalled handshakes", d)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range stalled {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, err := io.Copy(io.Discard, c) // returns when the server closes
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("a stalled handshake was still open after 20 s")
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	t.Logf("50 stalled handshakes dropped after %v", took)
	if took < 5*time.Second {
		t.Errorf("stalled handshakes dropped after %v: sooner than the handshake timeout?", took)
	}
}

// TestTLS_ThousandIdleConnections: 1,000 clients that finish the handshake
// and then send nothing do not slow a real client down.
func TestTLS_ThousandIdleConnections(t *testing.T) {
	t.Parallel()
	_, client, base := openTLS(t)
	addr := base[len("https://"):]
	cfg := client.Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 32)
	)
	start := time.Now()
	for range 1000 {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
			if err != nil {
				t.Errorf("idle client: %v", err)
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	t.Logf("%d idle TLS connections open after %v", len(conns), time.Since(start))
	var worst time.Duration
	for range 20 {
		worst = max(worst, healthz(t, client, base))
	}
	t.Logf("healthz beside them: worst of 20 %v", worst)
	if worst > time.Second {
		t.Errorf("healthz took %v beside 1,000 idle TLS connections", worst)
	}
}
