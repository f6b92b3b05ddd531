package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/crypto/bcrypt"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/config"
)

// e2eSecret is the webhook secret TestMetricsListener signs with (the
// tests of the built binary, in e2e/, use one of the same name).
const e2eSecret = "e2e-webhook-secret"

// TestMetricsListener runs Main with [server] metrics_listen: the page is
// served there without authentication, parses as Prometheus text and counts
// a notification posted to the public listener.
func TestMetricsListener(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.MetricsListen = "127.0.0.1:0"
	cfg.Archive.MinFreeBytes = 0
	cfg.Nylas.WebhookSecrets = []config.Secret{config.Literal(e2eSecret)}
	hash, err := bcrypt.GenerateFromPassword([]byte("metrics-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Admin.Users = map[string]string{"ops": string(hash)}
	m := NewMain(cfg, slog.New(slog.DiscardHandler))
	if err := m.Open(); err != nil {
		m.Close()
		t.Fatal(err)
	}
	defer m.Close()

	body, err := os.ReadFile("appliance/testdata/fixtures/notetaker-meeting-state-attending.json")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", m.Server.URL()+cfg.Server.WebhookPath, bytes.NewReader(body))
	req.Header.Set("X-Nylas-Signature", appliance.Sign(e2eSecret, body))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("signed POST: %v %v", resp, err)
	}

	// The public listener's /metrics is behind the admin users' basic auth.
	for _, c := range []struct {
		name       string
		user, pass string
		want       int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", "ops", "nope", http.StatusUnauthorized},
		{"admin user", "ops", "metrics-pw", http.StatusOK},
	} {
		req, _ := http.NewRequest("GET", m.Server.URL()+"/metrics", nil)
		if c.user != "" {
			req.SetBasicAuth(c.user, c.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: public /metrics = %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}

	resp, err := http.Get(m.MetricsSide.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics on metrics_listen: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("page does not parse: %v", err)
	}
	f := families["notekeeper_notifications_received_total"]
	if f == nil || !strings.Contains(f.String(), `value:"notetaker.meeting_state"`) {
		t.Fatalf("the POST is not counted: %v", f)
	}
	for _, name := range []string{"notekeeper_disk_free_bytes", "notekeeper_ingest_duration_seconds", "process_resident_memory_bytes"} {
		if families[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
}
