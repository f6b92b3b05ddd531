package appliance_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/ats/ashby"
	"github.com/notekeeper/notekeeper/appliance/ats/atstest"
	"github.com/notekeeper/notekeeper/appliance/ats/greenhouse"
	"github.com/notekeeper/notekeeper/appliance/ats/lever"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/store"
)

// standin is what the delivery tests read from a vendor stand-in.
type standin interface {
	Interviews() []atstest.Record
	Notes() []atstest.Record
	Requests() []atstest.Request
	CutNext(n int)
	FailNext(n, code int)
	Lag(d time.Duration)
	Hold() (<-chan struct{}, func())
	Creates() int
}

// vendor opens one ATS stand-in and a connector to it (with wrong
// credentials when badAuth).
type vendor struct {
	name string
	open func(t *testing.T, badAuth bool) (connector.ATS, standin)
	// application is where the interview must land (the active application,
	// the most recently updated one).
	application string
	cancelled   string // the interview's status after a cancel
}

var vendors = []vendor{
	{
		name: "lever", application: "250d8f03-738a-4bba-a671-8a3d73477145", cancelled: "deleted",
		open: func(t *testing.T, bad bool) (connector.ATS, standin) {
			s := atstest.NewLever("lever-key")
			t.Cleanup(s.Close)
			key := "lever-key"
			if bad {
				key = "wrong"
			}
			return &lever.ATS{BaseURL: s.URL + "/v1", APIKey: key, UserID: "c4a1e1d2-0f9b-4d7e-b6a5-3e2d1c0b9a08", Lag: 100 * time.Millisecond}, s
		},
	},
	{
		name: "ashby", application: "1bd1f0f8-0dc3-4b2e-9b55-7ce1e3b90a01", cancelled: "cancelled",
		open: func(t *testing.T, bad bool) (connector.ATS, standin) {
			s := atstest.NewAshby("ashby-key")
			t.Cleanup(s.Close)
			key := "ashby-key"
			if bad {
				key = "wrong"
			}
			return &ashby.ATS{BaseURL: s.URL, APIKey: key, Lag: 100 * time.Millisecond}, s
		},
	},
	{
		name: "greenhouse", application: "69306314", cancelled: "deleted",
		open: func(t *testing.T, bad bool) (connector.ATS, standin) {
			s := atstest.NewGreenhouse("gh-client", "gh-secret")
			t.Cleanup(s.Close)
			secret := "gh-secret"
			if bad {
				secret = "wrong"
			}
			return &greenhouse.ATS{BaseURL: s.URL + "/v3", TokenURL: s.TokenURL(), ClientID: "gh-client", ClientSecret: secret,
				UserID: "4081", Lag: 100 * time.Millisecond}, s
		},
	},
}

// openVendorApp runs records, archive and the ATS delivery on conn, with
// dead letters alerted as in production.
func openVendorApp(t *testing.T, fake *fakeNylas, conn connector.ATS, tune ...func(*appliance.Pool)) *archiveApp {
	t.Helper()
	var at *appliance.ATS
	signer := &links.Signer{Key: []byte("0123456789abcdef0123"), BaseURL: "https://notes.example.com", TTL: time.Hour, Now: time.Now}
	return openArchiveApp(t, fake, func(a *appliance.Archiver) {
		at = &appliance.ATS{DB: a.DB, Nylas: a.Nylas, Conn: conn, InternalDomains: []string{"your-company.example"},
			Links: signer, DataDir: a.DataDir, Logger: a.Logger}
		a.OnArchived = appliance.RouteArchived(a.DB, nil, at)
	}, func(app *archiveApp) {
		at.Register(app.Pool)
		app.AfterBooking = at.ScheduleBooking
		app.Pool.MaxAttempts = 4
		app.Pool.DeadLetterAlert = (&appliance.Alerter{DB: app.DB, Logger: app.Server.Logger}).DeadLetter
		for _, f := range tune {
			f(app.Pool)
		}
	})
}

func oneInterview(t *testing.T, s standin, v vendor) atstest.Record {
	t.Helper()
	ivs := s.Interviews()
	if len(ivs) != 1 {
		t.Fatalf("%d interviews in %s, want 1: %+v", len(ivs), v.name, ivs)
	}
	if ivs[0].ApplicationID != v.application {
		t.Fatalf("interview on application %s, want the active one %s", ivs[0].ApplicationID, v.application)
	}
	return ivs[0]
}

var (
	bookedStart = time.Date(2024, 7, 1, 14, 0, 0, 0, time.UTC)
	movedStart  = time.Date(2024, 7, 2, 14, 0, 0, 0, time.UTC)
)

func TestATSVendors_InterviewLifecycle(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			conn, s := v.open(t, false)
			app := openVendorApp(t, newFakeNylas(t), conn)

			deliver(t, app.testApp, "booking-created.json", "booking-created.json")
			iv := oneInterview(t, s, v)
			if !iv.Start.Equal(bookedStart) || !iv.End.Equal(bookedStart.Add(45*time.Minute)) || iv.Status != "scheduled" {
				t.Fatalf("created %+v", iv)
			}

			deliver(t, app.testApp, "booking-rescheduled.json", "booking-rescheduled.json")
			moved := oneInterview(t, s, v)
			if moved.ID != iv.ID || !moved.Start.Equal(movedStart) || !moved.End.Equal(movedStart.Add(45*time.Minute)) {
				t.Fatalf("rescheduled: %+v, want %s moved to %s", moved, iv.ID, movedStart)
			}

			deliver(t, app.testApp, "booking-cancelled.json", "booking-cancelled.json")
			app.DB.Enqueue(store.TaskRef{Kind: store.TaskATS, Subject: "bkg-5521"}) // a replay
			waitFor(t, "queue to drain", drained(app.DB))
			if c := oneInterview(t, s, v); c.ID != iv.ID || c.Status != v.cancelled {
				t.Fatalf("cancelled: %+v, want status %s", c, v.cancelled)
			}
			if n := s.Notes(); len(n) != 0 {
				t.Fatalf("%s allows interview writes, yet notes were added: %+v", v.name, n)
			}
			d, err := app.DB.ATSDelivery("bkg-5521")
			if err != nil || d.Connector != v.name || !d.Matched || d.Candidate.ApplicationID != v.application || d.Interview.Pending() {
				t.Fatalf("delivery state %+v (%v)", d, err)
			}
		})
	}
}

func TestATSVendors_ArchivedMeetingAddsOneNote(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			conn, s := v.open(t, false)
			fake := newFakeNylas(t)
			fake.add("ntBk77Qe1", "grant-1", meetingFiles(t, 64<<10, "video/mp4"))
			app := openVendorApp(t, fake, conn)
			deliver(t, app.testApp, "booking-created.json", "booking-cancelled.json") // a cancelled booking still gets its notes
			body := fake.mediaNotification("n-iv", "ntBk77Qe1", "grant-1", "available", "mp4", allKinds...)
			for range 2 {
				app.postSigned(t, body)
			}
			app.waitArchived(t, "ntBk77Qe1")
			waitFor(t, "queue to drain", drained(app.DB))
			app.DB.Enqueue(store.TaskRef{Kind: store.TaskATSRecording, Subject: "ntBk77Qe1"}) // a replay
			waitFor(t, "queue to drain", drained(app.DB))

			notes := s.Notes()
			if len(notes) != 1 {
				t.Fatalf("%d notes, want 1: %+v", len(notes), notes)
			}
			text := notes[0].Text
			for _, want := range []string{"Jo wants to renew for two years.", "- Send the renewal quote", "- Book a follow-up",
				"https://notes.example.com/files/ntBk77Qe1/recording.mp4?exp=", "https://notes.example.com/files/ntBk77Qe1/transcript.txt?exp=",
				connector.NotesMarker("ntBk77Qe1")} {
				if !strings.Contains(text, want) {
					t.Errorf("note lacks %q:\n%s", want, text)
				}
			}
			if l, ok := s.(*atstest.Lever); ok {
				if files := l.Files(v.application); len(files) != 1 || files[0] != "notekeeper-ntBk77Qe1-transcript.txt" {
					t.Errorf("lever transcript files %v", files)
				}
			}
			// Nothing handed to the ATS carries the Nylas API key or a Nylas media URL.
			for _, r := range s.Requests() {
				all := r.Path + "?" + r.Query + " " + fmt.Sprint(r.Header) + " " + r.Body
				if strings.Contains(all, "test-api-key") || strings.Contains(all, fake.storage.URL) || strings.Contains(all, "X-Goog-Signature") {
					t.Fatalf("%s %s carries a Nylas credential or media URL: %s", r.Method, r.Path, all)
				}
			}
		})
	}
}

func TestATSVendors_LostAnswersEndWithExactlyOne(t *testing.T) {
	cases := []struct {
		name  string
		fault func(s standin)
	}{
		{"answer cut after commit", func(s standin) { s.CutNext(1) }},
		{"answer cut, search lagging", func(s standin) { s.CutNext(1); s.Lag(80 * time.Millisecond) }},
		{"rate limited twice", func(s standin) { s.FailNext(2, http.StatusTooManyRequests) }},
		{"unavailable (ambiguous)", func(s standin) { s.FailNext(1, http.StatusServiceUnavailable) }},
	}
	for _, v := range vendors {
		for _, tc := range cases {
			t.Run(v.name+"/"+tc.name, func(t *testing.T) {
				conn, s := v.open(t, false)
				fake := newFakeNylas(t)
				fake.add("ntBk77Qe1", "grant-1", meetingFiles(t, 64<<10, "video/mp4"))
				app := openVendorApp(t, fake, conn)
				tc.fault(s)
				deliver(t, app.testApp, "booking-created.json")
				oneInterview(t, s, v)

				tc.fault(s) // and the note's create
				app.postSigned(t, fake.mediaNotification("n-iv", "ntBk77Qe1", "grant-1", "available", "mp4", allKinds...))
				app.waitArchived(t, "ntBk77Qe1")
				waitFor(t, "queue to drain", drained(app.DB))
				if n := s.Notes(); len(n) != 1 {
					t.Fatalf("%d notes, want 1", len(n))
				}
				oneInterview(t, s, v)
			})
		}
	}
}

func TestATSVendors_HeldCreateCommittedLaterIsNotRepeated(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			conn, s := v.open(t, false)
			const lease = 300 * time.Millisecond // what a killed worker leaves behind
			app := openVendorApp(t, newFakeNylas(t), conn, func(p *appliance.Pool) { p.Lease = lease })
			held, commit := s.Hold()
			if status, _ := app.postSigned(t, fixture(t, "booking-created.json")); status != 200 {
				t.Fatal(status)
			}
			<-held
			// The process dies while the create is in flight: the pool stops
			// (its lease stays), the vendor commits afterwards.
			app.Pool.Close(t.Context())
			commit()
			waitFor(t, "the held create to land", func() bool { return len(s.Interviews()) == 1 })
			d, _ := app.DB.ATSDelivery("bkg-5521")
			if !d.Interview.Pending() {
				t.Fatalf("the intent was not persisted before the create: %+v", d.Interview)
			}
			// The booking moved meanwhile (booking.rescheduled while the
			// create was unconfirmed): the found interview has the first
			// times and must still be moved.
			if _, err := app.DB.UpdateBooking("bkg-5521", func(b *store.Booking) error {
				b.Start, b.End = movedStart, movedStart.Add(45*time.Minute)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			// A restarted delivery resolves the intent by search instead of
			// creating again.
			restarted := appliance.NewPool(app.DB)
			restarted.BackoffBase, restarted.BackoffMax, restarted.Lease = time.Millisecond, 10*time.Millisecond, lease
			(&appliance.ATS{DB: app.DB, Conn: conn, InternalDomains: []string{"your-company.example"}}).Register(restarted)
			(&appliance.Records{DB: app.DB}).Register(restarted)
			app.DB.Enqueue(store.TaskRef{Kind: store.TaskATS, Subject: "bkg-5521"})
			if err := restarted.Open(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { restarted.Close(context.Background()) })
			waitFor(t, "the intent to resolve", func() bool {
				d, err := app.DB.ATSDelivery("bkg-5521")
				return err == nil && d.Interview.Done
			})
			waitFor(t, "queue to drain", drained(app.DB))
			if iv := oneInterview(t, s, v); !iv.Start.Equal(movedStart) || !iv.End.Equal(movedStart.Add(45*time.Minute)) {
				t.Fatalf("the interview holds %s–%s, want the move to %s", iv.Start, iv.End, movedStart)
			}
			if s.Creates() != 1 {
				t.Fatalf("%d creates, want 1", s.Creates())
			}
		})
	}
}

func TestATSVendors_UnknownCandidateIsNeverCreated(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			conn, s := v.open(t, false)
			app := openVendorApp(t, newFakeNylas(t), conn)
			for _, f := range []string{"booking-created.json", "booking-created.json", "booking-rescheduled.json", "booking-cancelled.json"} {
				stranger := strings.ReplaceAll(string(fixture(t, f)), "dana.chen@candidates.example", "stranger@elsewhere.example")
				app.postSigned(t, []byte(stranger))
			}
			waitFor(t, "queue to drain", drained(app.DB))
			app.DB.Enqueue(store.TaskRef{Kind: store.TaskATS, Subject: "bkg-5521"})
			waitFor(t, "queue to drain", drained(app.DB))
			if n, m := len(s.Interviews()), len(s.Notes()); n+m != 0 {
				t.Fatalf("%d interviews and %d notes for an unknown candidate", n, m)
			}
			alerts, _ := app.DB.Alerts()
			if len(alerts) != 1 || alerts[0].Kind != "delivery.failed" || alerts[0].Subject != "bkg-5521" ||
				!strings.Contains(alerts[0].Message, "stranger@elsewhere.example") {
				t.Fatalf("alerts %+v, want one delivery.failed about bkg-5521", alerts)
			}
			if d, err := app.DB.ATSDelivery("bkg-5521"); err != nil || !d.Unmatched || d.Matched {
				t.Fatalf("delivery %+v (%v), want unmatched", d, err)
			}
		})
	}
}

func TestATSVendors_BadCredentialsDeadLetterAfterBoundedRequests(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			conn, s := v.open(t, true)
			app := openVendorApp(t, newFakeNylas(t), conn)
			if status, _ := app.postSigned(t, fixture(t, "booking-created.json")); status != 200 {
				t.Fatal(status)
			}
			waitFor(t, "the ats task to dead-letter", func() bool {
				tk, err := app.DB.Task(store.TaskRef{Kind: store.TaskATS, Subject: "bkg-5521"}.Key())
				return err == nil && tk.Dead
			})
			tk, _ := app.DB.Task(store.TaskRef{Kind: store.TaskATS, Subject: "bkg-5521"}.Key())
			if tk.Attempts != 1 || !strings.Contains(tk.LastError, v.name+":") {
				t.Fatalf("dead letter after %d attempts: %s", tk.Attempts, tk.LastError)
			}
			if n := len(s.Requests()); n > 3 {
				t.Fatalf("%d requests before giving up, want at most 3", n)
			}
			alerts, _ := app.DB.Alerts()
			if len(alerts) != 1 || alerts[0].Kind != "delivery.failed" || alerts[0].Subject != "bkg-5521" {
				t.Fatalf("alerts %+v", alerts)
			}
		})
	}
}

func TestATSVendors_GreenhouseFallsBackToNotes(t *testing.T) {
	cases := []struct {
		name  string
		setup func(s *atstest.Greenhouse)
		after func(s *atstest.Greenhouse) // once the interview exists
		notes []string                    // what the notes say, in order
		ivs   int
	}{
		{
			name:  "interview no longer scheduled",
			after: func(s *atstest.Greenhouse) { s.SetInterviewStatus(s.Interviews()[0].ID, "complete") },
			notes: []string{"Interview moved", "Interview cancelled"}, ivs: 1,
		},
		{
			name:  "no interview writes at all",
			setup: func(s *atstest.Greenhouse) { s.NoInterviewWrites = true },
			notes: []string{"Interview scheduled", "Interview moved", "Interview cancelled"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, st := vendors[2].open(t, false)
			s := st.(*atstest.Greenhouse)
			if tc.setup != nil {
				tc.setup(s)
			}
			app := openVendorApp(t, newFakeNylas(t), conn)
			deliver(t, app.testApp, "booking-created.json", "booking-created.json")
			if tc.after != nil {
				tc.after(s)
			}
			for _, f := range []string{"booking-rescheduled.json", "booking-rescheduled.json", "booking-cancelled.json", "booking-cancelled.json"} {
				deliver(t, app.testApp, f)
			}
			app.DB.Enqueue(store.TaskRef{Kind: store.TaskATS, Subject: "bkg-5521"})
			waitFor(t, "queue to drain", drained(app.DB))
			if n := len(s.Interviews()); n != tc.ivs {
				t.Fatalf("%d interviews, want %d", n, tc.ivs)
			}
			notes := s.Notes()
			if len(notes) != len(tc.notes) {
				t.Fatalf("%d notes, want %d: %+v", len(notes), len(tc.notes), notes)
			}
			for i, want := range tc.notes {
				if !strings.HasPrefix(notes[i].Text, want) || !strings.Contains(notes[i].Text, "notekeeper:booking=bkg-5521:kind=") ||
					notes[i].CandidateID != "53883394" {
					t.Errorf("note %d: %q, want it to start %q with the marker", i, notes[i].Text, want)
				}
			}
		})
	}
}

func TestATSVendors_RebookingTiesBackToTheSameCandidate(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			conn, s := v.open(t, false)
			app := openVendorApp(t, newFakeNylas(t), conn)
			deliver(t, app.testApp, "booking-created.json", "booking-cancelled.json")
			lookups := len(s.Requests())
			rebook := strings.NewReplacer(`"bkg-5521"`, `"bkg-7000"`, `"ntf-booking-0001"`, `"ntf-booking-0100"`, `"bk9evt2q8s"`, `"bk9evt9zz"`).
				Replace(string(fixture(t, "booking-created.json")))
			time.Sleep(5 * time.Millisecond) // seen later than the first booking
			if status, _ := app.postSigned(t, []byte(rebook)); status != 200 {
				t.Fatal(status)
			}
			waitFor(t, "queue to drain", drained(app.DB))
			first, _ := app.DB.ATSDelivery("bkg-5521")
			second, err := app.DB.ATSDelivery("bkg-7000")
			if err != nil || second.PreviousBooking != "bkg-5521" || second.Candidate != first.Candidate {
				t.Fatalf("rebooking %+v (%v), want bkg-5521's candidate %+v", second, err, first.Candidate)
			}
			ivs := s.Interviews()
			if len(ivs) != 2 || ivs[1].ApplicationID != v.application || ivs[1].Status != "scheduled" || ivs[0].Status != v.cancelled {
				t.Fatalf("interviews %+v", ivs)
			}
			for _, r := range s.Requests()[lookups:] {
				if strings.Contains(r.Path, "candidate") || (strings.Contains(r.Path, "opportunities") && strings.Contains(r.Query, "email=")) {
					t.Fatalf("the rebooking looked the candidate up again: %s %s?%s", r.Method, r.Path, r.Query)
				}
			}
		})
	}
}

func TestATSVendors_AshbySuccessFalseIsAFailure(t *testing.T) {
	cases := []struct{ name, code string }{
		{"invalid input", "invalid_input"},
		{"key lacks a permission", "missing_endpoint_permission"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, st := vendors[1].open(t, false)
			s := st.(*atstest.Ashby)
			s.ErrorNext(1, tc.code)
			app := openVendorApp(t, newFakeNylas(t), conn)
			if status, _ := app.postSigned(t, fixture(t, "booking-created.json")); status != 200 {
				t.Fatal(status)
			}
			key := store.TaskRef{Kind: store.TaskATS, Subject: "bkg-5521"}.Key()
			waitFor(t, "the ats task to dead-letter", func() bool { tk, err := app.DB.Task(key); return err == nil && tk.Dead })
			if tk, _ := app.DB.Task(key); !strings.Contains(tk.LastError, tc.code) || tk.Attempts != 1 {
				t.Fatalf("dead letter %q after %d attempts", tk.LastError, tk.Attempts)
			}
			if n := len(s.Interviews()); n != 0 {
				t.Fatalf("%d interviews after a success:false", n)
			}
			if alerts, _ := app.DB.Alerts(); len(alerts) != 1 || alerts[0].Subject != "bkg-5521" {
				t.Fatalf("alerts %+v", alerts)
			}
		})
	}
}
