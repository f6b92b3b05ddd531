package e2e

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/tls/tlstest"
)

// TestE2E_AutomaticHTTPSWithPebble runs the binary with [server] domain
// against an in-process Pebble: the certificate is obtained in the
// background once the listeners are up, and a client trusting only Pebble's
// issuing root reaches the webhook over HTTPS; /metrics on metrics_listen
// shows the certificate obtained and its expiry.
func TestE2E_AutomaticHTTPSWithPebble(t *testing.T) {
	httpPort, httpsPort := freePort(t), freePort(t)
	pebble := tlstest.Start(t, httpPort, httpsPort, 24*time.Hour)
	dir := t.TempDir()
	metricsAddr := freeAddr(t)
	config := writeConfig(t, fmt.Sprintf(`data_dir = %q
[server]
domain = "localhost"
metrics_listen = %q
[tls]
email = "ops@example.com"
ca = %q
ca_root = %q
http_port = %d
https_port = %d
[nylas]
api_key = "k"
webhook_secrets = [%q]
[archive]
min_free_bytes = 0
`, filepath.Join(dir, "data"), metricsAddr, pebble.Directory(), pebble.WriteServerRoot(t, dir), httpPort, httpsPort, e2eSecret))
	d := startProcess(t, config)

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pebble.IssuingRoots()}, ForceAttemptHTTP2: true}}
	base := "https://localhost:" + strconv.Itoa(httpsPort)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if d.exited() || time.Now().After(deadline) {
			t.Fatalf("not ready over HTTPS: %v %v (exited: %v)\n%s", resp, err, d.exited(), d.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := client.Get(base + "/webhooks/nylas?challenge=over-https")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "over-https" || resp.TLS == nil || resp.TLS.NegotiatedProtocol != "h2" {
		t.Fatalf("challenge: %q (tls %v)", b, resp.TLS != nil)
	}
	if status, err := postNotification(client, base, e2eNotification("ntf-https-1", 1)); err != nil || status != 200 {
		t.Fatalf("signed POST over HTTPS: %v %v", status, err)
	}

	plain := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	httpBase := "http://localhost:" + strconv.Itoa(httpPort)
	resp, err = plain.Get(httpBase + "/admin/x?y=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 308 || resp.Header.Get("Location") != base+"/admin/x?y=1" {
		t.Fatalf("plain HTTP: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, err := plain.Get(httpBase + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz on the HTTP listener: %v %v", resp, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "certmagic")); err != nil {
		t.Fatalf("certificate storage: %v", err)
	}
	waitUntil(t, "the certificate metrics", func() bool {
		samples, err := scrapeMetrics("http://" + metricsAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		obtained, _ := metricValue(samples, "notekeeper_certificate_events_total", map[string]string{"event": "obtained"})
		expiry, _ := metricValue(samples, "notekeeper_certificate_expiry_timestamp_seconds", nil)
		return obtained == 1 && expiry > float64(time.Now().Unix())
	})
}
