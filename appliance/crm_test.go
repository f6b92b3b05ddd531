package appliance_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/crm/rest"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/outbound"
	"github.com/notekeeper/notekeeper/store"
)

// fakeCRM is a stand-in CRM: contacts by e-mail, meeting records by ID.
type fakeCRM struct {
	srv      *httptest.Server
	mu       sync.Mutex
	contacts map[string][2]string // email → contact id, deal id ("" = none)
	meetings map[string]map[string]any
	posts    int
	patches  int
	script   []int // statuses for the next meeting writes (then 2xx)
	idem     []string
	auth     []string
}

func newFakeCRM(t *testing.T) *fakeCRM {
	c := &fakeCRM{contacts: map[string][2]string{}, meetings: map[string]map[string]any{}}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *fakeCRM) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.auth = append(c.auth, r.Header.Get("Authorization"))
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/contacts/search":
		res := []map[string]any{}
		if ct, ok := c.contacts[r.URL.Query().Get("email")]; ok {
			var deal any
			if ct[1] != "" {
				deal = ct[1]
			}
			res = append(res, map[string]any{"id": ct[0], "primary_deal_id": deal})
		}
		json.NewEncoder(w).Encode(map[string]any{"results": res})
	case r.Method == "GET" && r.URL.Path == "/api/meetings":
		res := []map[string]any{}
		for id, m := range c.meetings {
			if m["external_notetaker_id"] == r.URL.Query().Get("external_notetaker_id") {
				res = append(res, map[string]any{"id": id})
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"results": res})
	case r.Method == "POST" && r.URL.Path == "/api/meetings", r.Method == "PATCH" && strings.HasPrefix(r.URL.Path, "/api/meetings/"):
		if len(c.script) > 0 {
			status := c.script[0]
			c.script = c.script[1:]
			if status >= 300 {
				http.Error(w, `{"error":"scripted"}`, status)
				return
			}
		}
		c.idem = append(c.idem, r.Header.Get("Idempotency-Key"))
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		if r.Method == "POST" {
			c.posts++
			id := fmt.Sprintf("m%d", c.posts)
			c.meetings[id] = m
			json.NewEncoder(w).Encode(map[string]string{"id": id})
			return
		}
		c.patches++
		c.meetings[strings.TrimPrefix(r.URL.Path, "/api/meetings/")] = m
		w.Write([]byte("{}"))
	default:
		http.NotFound(w, r)
	}
}

func (c *fakeCRM) counts() (posts, patches, records int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.posts, c.patches, len(c.meetings)
}

// crmApp is an archive app whose archived meetings go to a CRM.
func openCRMApp(t *testing.T, fake *fakeNylas, crm *fakeCRM, tune func(*appliance.Archiver)) *archiveApp {
	t.Helper()
	var c *appliance.CRM
	app := openArchiveApp(t, fake, func(a *appliance.Archiver) {
		c = &appliance.CRM{
			DB: a.DB, Nylas: a.Nylas, Connector: &rest.Connector{API: &outbound.Client{BaseURL: crm.srv.URL, APIKey: "crm-key"},
				ContactsSearchPath: "/api/contacts/search", MeetingsPath: "/api/meetings"},
			InternalDomains: []string{"your-company.example"},
			Links:           &links.Signer{Key: []byte("0123456789abcdef0123"), BaseURL: "https://notes.example.com", TTL: time.Hour, Now: time.Now},
			DataDir:         a.DataDir, Logger: a.Logger,
		}
		a.OnArchived = appliance.RouteArchived(a.DB, c, nil)
		if tune != nil {
			tune(a)
		}
	}, func(app *archiveApp) {
		c.Register(app.Pool)
		app.Pool.DeadLetterAlert = (&appliance.Alerter{DB: app.DB, Logger: app.Pool.Logger}).DeadLetter
	})
	return app
}

// acmeMeeting registers the seed sales meeting (fixtures/event-response.json).
func acmeMeeting(t *testing.T, fake *fakeNylas, crm *fakeCRM) map[string]mediaFile {
	files := meetingFiles(t, 64<<10, "video/mp4")
	fake.add("nt7Hq2LmZ", "grant-a1b2c3", files)
	var ev struct {
		Data json.RawMessage `json:"data"`
	}
	json.Unmarshal(fixture(t, "event-response.json"), &ev)
	fake.events["evt-nt7Hq2LmZ"] = string(ev.Data)
	crm.contacts["jo@acme.example"] = [2]string{"c-jo", "deal-42"}
	crm.contacts["li@acme.example"] = [2]string{"c-li", ""}
	return files
}

func TestCRM_SalesMeetingOneRecord(t *testing.T) {
	fake, crm := newFakeNylas(t), newFakeCRM(t)
	acmeMeeting(t, fake, crm)
	app := openCRMApp(t, fake, crm, nil)
	body := fake.mediaNotification("n-acme", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...)
	for range 3 { // the same notification three times
		app.postSigned(t, body)
	}
	waitFor(t, "CRM record", func() bool { p, _, _ := crm.counts(); return p == 1 })
	waitFor(t, "queue to drain", drained(app.DB))
	if p, patches, n := crm.counts(); p != 1 || patches != 0 || n != 1 {
		t.Fatalf("posts %d patches %d records %d, want one record", p, patches, n)
	}
	m := crm.meetings["m1"]
	if m["subject"] != "Acme renewal call" || m["summary"] != "Jo wants to renew for two years." ||
		fmt.Sprint(m["action_items"]) != "[Send the renewal quote Book a follow-up]" ||
		fmt.Sprint(m["associated_contact_ids"]) != "[c-jo c-li]" || m["associated_deal_id"] != "deal-42" ||
		m["external_notetaker_id"] != "nt7Hq2LmZ" || m["source"] != "notekeeper" ||
		!strings.HasPrefix(fmt.Sprint(m["recording_url"]), "https://notes.example.com/files/nt7Hq2LmZ/recording.mp4?exp=") ||
		!strings.HasPrefix(fmt.Sprint(m["transcript_url"]), "https://notes.example.com/files/nt7Hq2LmZ/transcript.txt?exp=") {
		t.Fatalf("record %v", m)
	}
	if crm.auth[0] != "Bearer crm-key" || crm.idem[0] != "notekeeper-crm-nt7Hq2LmZ" {
		t.Fatalf("auth %q idem %q", crm.auth[0], crm.idem[0])
	}
	if !strings.Contains(fake.eventCalls[0], "/events/evt-nt7Hq2LmZ?calendar_id=primary") {
		t.Fatalf("event call %v", fake.eventCalls)
	}
	// A replay delivers nothing new: the content did not change.
	app.DB.Enqueue(store.TaskRef{Kind: store.TaskCRM, Subject: "nt7Hq2LmZ"})
	waitFor(t, "queue to drain", drained(app.DB))
	if p, patches, _ := crm.counts(); p != 1 || patches != 0 {
		t.Fatalf("replay: posts %d patches %d", p, patches)
	}
}

func TestCRM_RetriesThenOneRecord(t *testing.T) {
	fake, crm := newFakeNylas(t), newFakeCRM(t)
	acmeMeeting(t, fake, crm)
	crm.script = []int{503, 503}
	app := openCRMApp(t, fake, crm, nil)
	app.postSigned(t, fake.mediaNotification("n-acme", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
	waitFor(t, "CRM record", func() bool { p, _, _ := crm.counts(); return p == 1 })
	waitFor(t, "queue to drain", drained(app.DB))
	if p, _, n := crm.counts(); p != 1 || n != 1 {
		t.Fatalf("posts %d records %d", p, n)
	}
}

func TestCRM_PermanentFailureDeadLettersAndAlerts(t *testing.T) {
	fake, crm := newFakeNylas(t), newFakeCRM(t)
	acmeMeeting(t, fake, crm)
	crm.script = []int{400}
	app := openCRMApp(t, fake, crm, nil)
	app.postSigned(t, fake.mediaNotification("n-acme", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
	waitFor(t, "dead letter", func() bool {
		task, err := app.DB.Task("crm/nt7Hq2LmZ")
		return err == nil && task.Dead && strings.Contains(task.LastError, "400")
	})
	waitFor(t, "delivery.failed", func() bool {
		alerts, _ := app.DB.Alerts()
		return len(alerts) == 1 && alerts[0].Kind == store.AlertDeliveryFailed && alerts[0].Subject == "nt7Hq2LmZ"
	})
	// Retry from the dead letter once the CRM is fixed: one record.
	if err := app.DB.Retry("crm/nt7Hq2LmZ"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "CRM record", func() bool { p, _, _ := crm.counts(); return p == 1 })
}

func TestCRM_Routing(t *testing.T) {
	cases := []struct {
		name         string
		participants string
		booked       bool
		wantSkip     string
		unmatched    []string
	}{
		{name: "internal only creates nothing", participants: `[{"email":"sarah@your-company.example"},{"email":"Bob@YOUR-COMPANY.example"}]`, wantSkip: "no external participant"},
		{name: "booked meeting goes to the ATS, not the CRM", participants: `[{"email":"dana@candidates.example"}]`, booked: true},
		{name: "unmatched participant recorded", participants: `[{"email":"jo@acme.example"},{"email":"new@prospect.example"}]`, unmatched: []string{"new@prospect.example"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake, crm := newFakeNylas(t), newFakeCRM(t)
			fake.add("ntRoute1", "grant-1", meetingFiles(t, 1024, "video/mp4"))
			fake.events["evt-ntRoute1"] = `{"id":"evt-ntRoute1","title":"Call","participants":` + tc.participants + `}`
			crm.contacts["jo@acme.example"] = [2]string{"c-jo", ""}
			app := openCRMApp(t, fake, crm, nil)
			if tc.booked {
				app.DB.UpdateBooking("bkg-1", func(b *store.Booking) error { b.NotetakerID = "ntRoute1"; return nil })
			}
			app.postSigned(t, fake.mediaNotification("n-route", "ntRoute1", "grant-1", "available", "mp4", allKinds...))
			app.waitArchived(t, "ntRoute1")
			waitFor(t, "queue to drain", drained(app.DB))
			st := &store.CRMDelivery{}
			got, err := app.DB.CRMDelivery("ntRoute1")
			if err == nil {
				st = got
			}
			posts, _, _ := crm.counts()
			switch {
			case tc.booked:
				if posts != 0 || err == nil {
					t.Fatalf("booked meeting reached the CRM: posts %d state %+v", posts, st)
				}
			case tc.wantSkip != "":
				if posts != 0 || st.Skipped != tc.wantSkip {
					t.Fatalf("posts %d state %+v", posts, st)
				}
			default:
				if posts != 1 || fmt.Sprint(st.Unmatched) != fmt.Sprint(tc.unmatched) || st.RecordID == "" {
					t.Fatalf("posts %d state %+v", posts, st)
				}
			}
		})
	}
}
