package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/crypto/bcrypt"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/config"
)

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

	body := e2eNotification("ntf-metrics-1", 1)
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

// gathered returns the value of family{labels} in metrics: a counter's or
// gauge's value, a histogram's count.
func gathered(t *testing.T, metrics *appliance.Metrics, family string, labels map[string]string) (float64, bool) {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != family {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue(), true
			case m.Gauge != nil:
				return m.GetGauge().GetValue(), true
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

// waitUntil polls cond until it holds or 20 s pass.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
