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
	"github.com/notekeeper/notekeeper/appliance/ats/rest"
	crmrest "github.com/notekeeper/notekeeper/appliance/crm/rest"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/outbound"
	"github.com/notekeeper/notekeeper/store"
)

// fakeATS records every request, in order.
type fakeATS struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []atsReq
}

type atsReq struct {
	method, path, idem string
	body               map[string]any
}

func newFakeATS(t *testing.T) *fakeATS {
	a := &fakeATS{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		a.mu.Lock()
		a.reqs = append(a.reqs, atsReq{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), body})
		a.mu.Unlock()
		w.Write([]byte("{}"))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *fakeATS) requests() []atsReq {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]atsReq(nil), a.reqs...)
}

// openATSAppWithBookings runs records, archive, the ATS (bookings and
// recordings) and a CRM that interviews must never reach.
func openATSAppWithBookings(t *testing.T, fake *fakeNylas, ats *fakeATS, crm *fakeCRM) *archiveApp {
	t.Helper()
	var at *appliance.ATS
	var c *appliance.CRM
	signer := &links.Signer{Key: []byte("0123456789abcdef0123"), BaseURL: "https://notes.example.com", TTL: time.Hour, Now: time.Now}
	return openArchiveApp(t, fake, func(a *appliance.Archiver) {
		at = &appliance.ATS{DB: a.DB, Nylas: a.Nylas, Conn: &rest.ATS{API: &outbound.Client{BaseURL: ats.srv.URL, APIKey: "ats-key"},
			InterviewsPath: "/api/interviews", RecordingsPath: "/api/interview-recordings"},
			InternalDomains: []string{"your-company.example"}, Links: signer, DataDir: a.DataDir, Logger: a.Logger}
		c = &appliance.CRM{DB: a.DB, Nylas: a.Nylas, Connector: &crmrest.Connector{API: &outbound.Client{BaseURL: crm.srv.URL, APIKey: "crm-key"},
			ContactsSearchPath: "/api/contacts/search", MeetingsPath: "/api/meetings"}, Links: signer, DataDir: a.DataDir, Logger: a.Logger}
		a.OnArchived = appliance.RouteArchived(a.DB, c, at)
	}, func(app *archiveApp) {
		at.Register(app.Pool)
		c.Register(app.Pool)
		app.AfterBooking = at.ScheduleBooking
	})
}

func TestATS_BookingLifecycleInOrder(t *testing.T) {
	fake, ats, crm := newFakeNylas(t), newFakeATS(t), newFakeCRM(t)
	app := openATSAppWithBookings(t, fake, ats, crm)
	for _, f := range []string{"booking-created.json", "booking-created.json", "booking-rescheduled.json", "booking-cancelled.json"} {
		deliver(t, app.testApp, f)
	}
	// A replay of the booking task changes nothing.
	app.DB.Enqueue(store.TaskRef{Kind: store.TaskATS, Subject: "bkg-5521"})
	waitFor(t, "queue to drain", drained(app.DB))
	reqs := ats.requests()
	var got []string
	for _, r := range reqs {
		got = append(got, r.method+" "+r.path)
	}
	want := "[POST /api/interviews PATCH /api/interviews/bkg-5521 PATCH /api/interviews/bkg-5521]"
	if fmt.Sprint(got) != want {
		t.Fatalf("ATS saw %v, want %s", got, want)
	}
	post := reqs[0].body
	if post["booking_id"] != "bkg-5521" || post["event_id"] != "bk9evt2q8s" || post["candidate_name"] != "Dana Chen" ||
		post["candidate_email"] != "dana.chen@candidates.example" || post["start_time"] != "2024-07-01T14:00:00Z" ||
		post["end_time"] != "2024-07-01T14:45:00Z" || post["meeting_link"] != "https://meet.google.com/xyz-abcd-efg" ||
		post["status"] != "scheduled" || reqs[0].idem != "notekeeper-ats-bkg-5521" {
		t.Fatalf("POST %v (idem %q)", post, reqs[0].idem)
	}
	if reqs[1].body["start_time"] != "2024-07-02T14:00:00Z" || reqs[1].body["end_time"] != "2024-07-02T14:45:00Z" || len(reqs[1].body) != 2 {
		t.Fatalf("reschedule PATCH %v", reqs[1].body)
	}
	if reqs[2].body["status"] != "cancelled" || len(reqs[2].body) != 1 {
		t.Fatalf("cancel PATCH %v", reqs[2].body)
	}
}

func TestATS_RebookingLinksToTheCancelledBooking(t *testing.T) {
	fake, ats, crm := newFakeNylas(t), newFakeATS(t), newFakeCRM(t)
	app := openATSAppWithBookings(t, fake, ats, crm)
	deliver(t, app.testApp, "booking-created.json", "booking-cancelled.json")
	rebook := strings.NewReplacer(`"bkg-5521"`, `"bkg-7000"`, `"ntf-booking-0001"`, `"ntf-booking-0100"`, `"bk9evt2q8s"`, `"bk9evt9zz"`).
		Replace(string(fixture(t, "booking-created.json")))
	time.Sleep(5 * time.Millisecond) // seen later than the first booking
	if status, _ := app.postSigned(t, []byte(rebook)); status != 200 {
		t.Fatal(status)
	}
	waitFor(t, "queue to drain", drained(app.DB))
	reqs := ats.requests()
	last := reqs[len(reqs)-1]
	if last.method != "POST" || last.body["booking_id"] != "bkg-7000" || last.body["previous_booking_id"] != "bkg-5521" {
		t.Fatalf("rebooking POST %+v", last)
	}
}

func TestATS_InterviewRecordingGoesToATSNotCRM(t *testing.T) {
	fake, ats, crm := newFakeNylas(t), newFakeATS(t), newFakeCRM(t)
	files := meetingFiles(t, 64<<10, "video/mp4")
	fake.add("ntBk77Qe1", "grant-1", files)
	fake.events["evt-ntBk77Qe1"] = `{"id":"evt-ntBk77Qe1","title":"Interview","participants":[{"email":"dana.chen@candidates.example"}]}`
	app := openATSAppWithBookings(t, fake, ats, crm)
	deliver(t, app.testApp, "booking-created.json", "booking-cancelled.json") // a cancelled booking still gets its recording
	body := fake.mediaNotification("n-iv", "ntBk77Qe1", "grant-1", "available", "mp4", allKinds...)
	for range 2 {
		app.postSigned(t, body)
	}
	app.waitArchived(t, "ntBk77Qe1")
	waitFor(t, "queue to drain", drained(app.DB))
	var recs []atsReq
	for _, r := range ats.requests() {
		if r.path == "/api/interview-recordings" {
			recs = append(recs, r)
		}
	}
	if len(recs) != 1 {
		t.Fatalf("%d recording posts, want 1", len(recs))
	}
	b := recs[0].body
	if b["booking_id"] != "bkg-5521" || b["notetaker_id"] != "ntBk77Qe1" || b["event_id"] != "bk9evt2q8s" ||
		!strings.HasPrefix(fmt.Sprint(b["recording_url"]), "https://notes.example.com/files/ntBk77Qe1/recording.mp4?exp=") ||
		!strings.Contains(fmt.Sprint(b["transcript"]), "[00:00:04] Jo Park:") || b["summary"] != "Jo wants to renew for two years." ||
		fmt.Sprint(b["action_items"]) != "[Send the renewal quote Book a follow-up]" {
		t.Fatalf("recording %v", b)
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(b["processed_at"])); err != nil {
		t.Fatalf("processed_at %v", b["processed_at"])
	}
	if p, _, _ := crm.counts(); p != 0 || len(fake.eventCalls) != 0 {
		t.Fatalf("an interview reached the CRM path: posts %d, event calls %v", p, fake.eventCalls)
	}
}

func TestATS_CandidateFromTheEventWhenTheBookingHasNone(t *testing.T) {
	fake, ats, crm := newFakeNylas(t), newFakeATS(t), newFakeCRM(t)
	fake.events["bk9evt2q8s"] = `{"id":"bk9evt2q8s","participants":[{"email":"sarah@your-company.example","name":"Sarah Kim"},` +
		`{"email":"Dana.Chen@Candidates.example","name":"Dana Chen"}]}`
	app := openATSAppWithBookings(t, fake, ats, crm)
	// The bot is known (with its grant) before the booking arrives.
	app.DB.UpdateNotetaker("ntBk77Qe1", func(nt *store.Notetaker) error { nt.GrantID = "grant-1"; return nil })
	internalOnly := strings.Replace(string(fixture(t, "booking-created.json")), `"email": "dana.chen@candidates.example"`, `"email": "recruiter@your-company.example"`, 1)
	if status, _ := app.postSigned(t, []byte(internalOnly)); status != 200 {
		t.Fatal(status)
	}
	waitFor(t, "queue to drain", drained(app.DB))
	reqs := ats.requests()
	if len(reqs) != 1 || reqs[0].body["candidate_email"] != "dana.chen@candidates.example" || reqs[0].body["candidate_name"] != "Dana Chen" {
		t.Fatalf("ATS saw %+v", reqs)
	}
	if len(fake.eventCalls) != 1 || !strings.Contains(fake.eventCalls[0], "/grants/grant-1/events/bk9evt2q8s?calendar_id=primary") {
		t.Fatalf("event calls %v", fake.eventCalls)
	}
}
