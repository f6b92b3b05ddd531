package demo_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/demo"
)

// call sends one request to a stand-in and returns status and body.
func call(t *testing.T, method, u, key, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

type exchange struct {
	name, method, path, key, body string
	status                        int
	answer                        string // a substring of the answer
}

func runExchanges(t *testing.T, base string, steps []exchange) {
	t.Helper()
	for _, s := range steps {
		status, answer := call(t, s.method, base+s.path, s.key, s.body)
		if status != s.status || !strings.Contains(answer, s.answer) {
			t.Fatalf("%s: %d %s, want %d containing %q", s.name, status, answer, s.status, s.answer)
		}
	}
}

func TestCRMStandIn(t *testing.T) {
	crm := demo.NewCRM("crm-key")
	if err := crm.Open(); err != nil {
		t.Fatal(err)
	}
	defer crm.Close()
	runExchanges(t, crm.URL(), []exchange{
		{"no key", "GET", "/api/contacts/search?email=jo%40acme.example", "", "", 401, "bad API key"},
		{"known contact", "GET", "/api/contacts/search?email=jo%40acme.example", "crm-key", "", 200,
			`{"results":[{"id":"crm-contact-jo-park","primary_deal_id":"crm-deal-acme-renewal"}]}`},
		{"unknown contact", "GET", "/api/contacts/search?email=li%40acme.example", "crm-key", "", 200, `{"results":[]}`},
		{"no meeting yet", "GET", "/api/meetings?external_notetaker_id=nt1", "crm-key", "", 200, `{"results":[]}`},
		{"not JSON", "POST", "/api/meetings", "crm-key", "subject=x", 400, "not JSON"},
		{"create", "POST", "/api/meetings", "crm-key", `{"external_notetaker_id":"nt1"}`, 201, `{"id":"crm-meeting-1"}`},
		{"found", "GET", "/api/meetings?external_notetaker_id=nt1", "crm-key", "", 200, `{"results":[{"id":"crm-meeting-1"}]}`},
		{"update", "PATCH", "/api/meetings/crm-meeting-1", "crm-key", `{"summary":"s"}`, 200, "crm-meeting-1"},
		{"update unknown", "PATCH", "/api/meetings/crm-meeting-9", "crm-key", `{}`, 404, "no meeting"},
	})
	reqs := crm.Requests()
	if len(reqs) != 9 || reqs[5].Short(0) != `POST /api/meetings {"external_notetaker_id":"nt1"}` || reqs[5].Status != 201 {
		t.Fatalf("recorded %d requests; 6th %q", len(reqs), reqs[5].Short(0))
	}
	if got := reqs[5].Short(10); got != `POST /api/meetings {"external…` {
		t.Fatalf("Short(10) = %q", got)
	}
}

func TestATSStandIn(t *testing.T) {
	ats := demo.NewATS("ats-key")
	if err := ats.Open(); err != nil {
		t.Fatal(err)
	}
	defer ats.Close()
	runExchanges(t, ats.URL(), []exchange{
		{"wrong key", "POST", "/api/interviews", "crm-key", `{"booking_id":"b1"}`, 401, ""},
		{"update before create", "PATCH", "/api/interviews/b1", "ats-key", `{"status":"cancelled"}`, 404, "no interview"},
		{"create", "POST", "/api/interviews", "ats-key", `{"booking_id":"b1","status":"scheduled"}`, 201, `"b1"`},
		{"update", "PATCH", "/api/interviews/b1", "ats-key", `{"status":"cancelled"}`, 200, `"b1"`},
		{"recording", "POST", "/api/interview-recordings", "ats-key", `{"booking_id":"b1"}`, 201, "stored"},
		{"no route", "GET", "/api/other", "ats-key", "", 404, "no route"},
	})
	if n := len(ats.Requests()); n != 6 {
		t.Fatalf("recorded %d requests", n)
	}
}

func TestAlertSink(t *testing.T) {
	sink := demo.NewAlertSink()
	if err := sink.Open(); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	runExchanges(t, sink.URL(), []exchange{
		{"alert", "POST", "/", "", `{"kind":"notetaker.failed_entry","subject":"nt1","message":"m","time":"2026-01-01T00:00:00Z"}`, 204, ""},
		{"not an alert", "POST", "/", "", `{"text":"slack style"}`, 204, ""},
		{"GET", "GET", "/", "", "", 405, ""},
	})
	got := sink.Alerts()
	if len(got) != 1 || got[0] != (demo.Alert{Kind: "notetaker.failed_entry", Subject: "nt1", Message: "m", Time: "2026-01-01T00:00:00Z"}) {
		t.Fatalf("alerts %+v", got)
	}
}
