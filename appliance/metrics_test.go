package appliance_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

// TestMetrics drives the real receiver and pool with metrics attached,
// scrapes /metrics over HTTP and parses the page with Prometheus' own text
// parser.
func TestMetrics(t *testing.T) {
	db := storetest.MustOpen(t)
	metrics := appliance.NewMetrics()
	now := time.Now()
	metrics.WatchState(appliance.StateSources{
		DB:                db,
		AtRisk:            72 * time.Hour,
		DiskFree:          func() (uint64, error) { return 5 << 30, nil },
		CertificateExpiry: func() (time.Time, error) { return now.Add(60 * 24 * time.Hour), nil },
	})

	pool := appliance.NewPool(db)
	pool.Metrics = metrics
	pool.MaxAttempts = 1
	(&appliance.Records{DB: db}).Register(pool)
	pool.Handle(store.TaskCRM, func(context.Context, *store.Task) error {
		return apperr.Permanent(errors.New("crm said 400"))
	})
	if err := pool.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close(context.Background()) })

	s := appliance.NewServer()
	s.Addr = "127.0.0.1:0"
	s.Receiver = &appliance.Receiver{DB: db, Verifier: appliance.NewVerifier(testSecret), MaxBodyBytes: testMaxBody,
		Logger: s.Logger, Metrics: metrics}
	s.Metrics = metrics.Handler(s.Logger)
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	app := &testApp{DB: db, Server: s, Pool: pool}

	body := compact(t, fixture(t, "notetaker-meeting-state-attending.json"))
	for range 2 { // stored, then duplicate
		if code, msg := app.postSigned(t, body); code != http.StatusOK {
			t.Fatalf("post: %d %s", code, msg)
		}
	}
	if code, _ := app.post(t, body, map[string]string{"X-Nylas-Signature": strings.Repeat("0", 64)}); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: %d", code)
	}
	if code, _ := app.postSigned(t, []byte(`[1,2]`)); code != http.StatusBadRequest {
		t.Fatalf("not an envelope: %d", code)
	}
	if code, _ := app.postSigned(t, make([]byte, testMaxBody+1)); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d", code)
	}
	// A delivery that fails for good, and a live task that stays queued.
	if err := db.Enqueue(store.TaskRef{Kind: store.TaskCRM, Subject: "ntDead"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the crm task to be dead-lettered", func() bool {
		task, err := db.Task("crm/ntDead")
		return err == nil && task.Dead
	})
	waitFor(t, "the notetaker task to finish", func() bool {
		_, err := db.Task(store.TaskRef{Kind: store.TaskNotetaker, Subject: "nt7Hq2LmZ"}.Key())
		return errors.Is(err, store.ErrNotFound)
	})
	// A meeting whose media Nylas deletes tomorrow and that is not archived.
	if _, err := db.UpdateNotetaker("ntRisk", func(nt *store.Notetaker) error {
		nt.MediaStatus, nt.AvailableAt, nt.DeletesAt = "available", now.Add(-13*24*time.Hour), now.Add(24*time.Hour)
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequest("GET", s.URL()+"/metrics", nil)
	code, page := do(t, req)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(page))
	if err != nil {
		t.Fatalf("the page does not parse as Prometheus text: %v\n%s", err, page)
	}

	for _, c := range []struct {
		name   string
		family string
		labels map[string]string
		want   float64
	}{
		{"stored", "notekeeper_notifications_received_total", map[string]string{"type": "notetaker.meeting_state", "outcome": "stored"}, 1},
		{"duplicate", "notekeeper_notifications_received_total", map[string]string{"type": "notetaker.meeting_state", "outcome": "duplicate"}, 1},
		{"bad signature", "notekeeper_notifications_received_total", map[string]string{"type": "", "outcome": "bad_signature"}, 1},
		{"invalid", "notekeeper_notifications_received_total", map[string]string{"type": "", "outcome": "invalid"}, 1},
		{"too large", "notekeeper_notifications_received_total", map[string]string{"type": "", "outcome": "too_large"}, 1},
		{"signature failures", "notekeeper_signature_failures_total", nil, 1},
		{"ingest latency observations", "notekeeper_ingest_duration_seconds", nil, 5},
		{"notetaker task done", "notekeeper_task_runs_total", map[string]string{"kind": "notetaker", "outcome": "done"}, 1},
		{"crm task dead", "notekeeper_task_runs_total", map[string]string{"kind": "crm", "outcome": "dead_letter"}, 1},
		{"crm delivery dead", "notekeeper_deliveries_total", map[string]string{"target": "crm", "outcome": "dead_letter"}, 1},
		{"dead letters gauge", "notekeeper_dead_letters", map[string]string{"kind": "crm"}, 1},
		{"media at risk", "notekeeper_media_at_risk", nil, 1},
		{"disk free", "notekeeper_disk_free_bytes", nil, 5 << 30},
		{"certificate expiry", "notekeeper_certificate_expiry_timestamp_seconds", nil, float64(now.Add(60 * 24 * time.Hour).Unix())},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := sample(families[c.family], c.labels)
			if !ok {
				t.Fatalf("%s%v not on the page", c.family, c.labels)
			}
			if got != c.want {
				t.Fatalf("%s%v = %v, want %v", c.family, c.labels, got, c.want)
			}
		})
	}
	for _, family := range []string{"notekeeper_store_commits_total", "notekeeper_store_commit_writes_total", "notekeeper_store_commit_seconds_total"} {
		if v, ok := sample(families[family], nil); !ok || v <= 0 {
			t.Errorf("%s = %v (present %v), want > 0: the test's writes were committed", family, v, ok)
		}
	}
	for _, family := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if families[family] == nil {
			t.Errorf("%s missing: runtime and process collectors not registered", family)
		}
	}
}

// sample returns the value of the metric in f whose labels include labels:
// a counter's or gauge's value, a histogram's observation count.
func sample(f *dto.MetricFamily, labels map[string]string) (float64, bool) {
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
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
	return 0, false
}
