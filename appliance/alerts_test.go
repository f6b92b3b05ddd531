package appliance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/store"
)

// sinkServer records JSON posts and answers with a script of statuses
// (then 200).
type sinkServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	script []int
	bodies []map[string]string
}

func newSinkServer(t *testing.T, script ...int) *sinkServer {
	s := &sinkServer{script: script}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.script) > 0 {
			status := s.script[0]
			s.script = s.script[1:]
			if status != 200 {
				http.Error(w, "sink says no", status)
				return
			}
		}
		s.bodies = append(s.bodies, body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sinkServer) received() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]string(nil), s.bodies...)
}

// openAlertApp runs the record handlers and an Alerter with sinks.
func openAlertApp(t *testing.T, sinks []appliance.AlertSink, extra func(*appliance.Pool)) *testApp {
	t.Helper()
	app := openApp(t, false)
	app.DB.AlertSinks = len(sinks)
	app.Pool = appliance.NewPool(app.DB)
	app.Pool.BackoffBase, app.Pool.BackoffMax, app.Pool.MaxAttempts = time.Millisecond, 5*time.Millisecond, 4
	al := &appliance.Alerter{DB: app.DB, Sinks: sinks, Logger: app.Server.Logger}
	al.Register(app.Pool)
	app.Pool.DeadLetterAlert = al.DeadLetter
	(&appliance.Records{DB: app.DB}).Register(app.Pool)
	if extra != nil {
		extra(app.Pool)
	}
	if err := app.Pool.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Pool.Close(context.Background()) })
	return app
}

func TestAlerts_FailedEntryFiveTimesOneMessagePerSink(t *testing.T) {
	slack := newSinkServer(t, 503, 503) // two failures, then delivered once
	hook := newSinkServer(t)
	mail := newSMTPServer(t, "")
	onlyGrants := newSinkServer(t)
	app := openAlertApp(t, []appliance.AlertSink{
		{Type: "slack", URL: slack.srv.URL},
		{Type: "webhook", URL: hook.srv.URL},
		{Type: "email", SMTPAddr: mail.ln.Addr().String(), From: "notekeeper@example.com", To: []string{"ops@example.com"}},
		{Type: "webhook", URL: onlyGrants.srv.URL, Kinds: []store.AlertKind{store.AlertGrantExpired}},
	}, nil)
	base := fixture(t, "notetaker-meeting-state-failed-entry.json")
	for i := range 5 {
		body := bytes.Replace(base, []byte(`"ntf-state-0002"`), []byte(`"ntf-fe-`+string(rune('a'+i))+`"`), 1)
		if status, _ := app.postSigned(t, body); status != 200 {
			t.Fatal(status)
		}
	}
	waitFor(t, "alerts delivered", drained(app.DB))

	got := slack.received()
	if len(got) != 1 || !strings.Contains(got[0]["text"], string(store.AlertFailedEntry)) || !strings.Contains(got[0]["text"], "nt7Hq2LmZ") ||
		!strings.Contains(got[0]["text"], "lobby") {
		t.Fatalf("slack got %v, want one message", got)
	}
	hooks := hook.received()
	if len(hooks) != 1 || hooks[0]["kind"] != string(store.AlertFailedEntry) || hooks[0]["subject"] != "nt7Hq2LmZ" || hooks[0]["message"] == "" {
		t.Fatalf("webhook got %v", hooks)
	}
	if _, err := time.Parse(time.RFC3339, hooks[0]["time"]); err != nil {
		t.Fatalf("webhook time %q", hooks[0]["time"])
	}
	msgs := mail.messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "Subject: [notekeeper] notetaker.failed_entry: nt7Hq2LmZ") ||
		!strings.Contains(msgs[0], "To: ops@example.com") {
		t.Fatalf("mail got %q", msgs)
	}
	if len(onlyGrants.received()) != 0 {
		t.Fatal("a sink filtered to grant.expired got a failed_entry alert")
	}
}

func TestAlerts_PermanentSinkFailureDoesNotLoop(t *testing.T) {
	bad := newSinkServer(t, 400, 400, 400)
	app := openAlertApp(t, []appliance.AlertSink{{Type: "slack", URL: bad.srv.URL}}, nil)
	if _, err := app.DB.RaiseAlert(store.Alert{Kind: store.AlertDiskLow, Subject: "/data", Message: "low"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dead letter", func() bool {
		task, err := app.DB.Task("alert/1-0")
		return err == nil && task.Dead && strings.Contains(task.LastError, "400")
	})
	time.Sleep(50 * time.Millisecond)
	if alerts, _ := app.DB.Alerts(); len(alerts) != 1 {
		t.Fatalf("alerts %+v: an undeliverable alert must not raise another", alerts)
	}
}

func TestAlerts_DeadLetterRaisesDeliveryFailed(t *testing.T) {
	hook := newSinkServer(t)
	app := openAlertApp(t, []appliance.AlertSink{{Type: "webhook", URL: hook.srv.URL}}, func(p *appliance.Pool) {
		p.Handle("crm", func(context.Context, *store.Task) error {
			return apperr.Permanent(errors.New("crm answered 400: bad request"))
		})
	})
	app.DB.Enqueue(store.TaskRef{Kind: store.TaskCRM, Subject: "nt1"})
	waitFor(t, "delivery.failed delivered", func() bool {
		got := hook.received()
		return len(got) == 1 && got[0]["kind"] == string(store.AlertDeliveryFailed) && got[0]["subject"] == "nt1" &&
			strings.Contains(got[0]["message"], "400")
	})
}
