package appliance_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/nylas/nylastest"
	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

const (
	followupKey   = "nyk_followup_test"
	followupGrant = "grant-rep"
	followupNT    = "ntFollow1"
)

// followupWorld is a stand-in Nylas with one event, a data dir with one
// archived meeting, and a store that knows it.
type followupWorld struct {
	nylas   *nylastest.Server
	dataDir string
	dbPath  string
}

func newFollowupWorld(t *testing.T, summary string) *followupWorld {
	t.Helper()
	w := &followupWorld{nylas: nylastest.New(t, followupKey), dataDir: t.TempDir()}
	w.dbPath = filepath.Join(w.dataDir, "notekeeper.db")
	w.nylas.AddGrant(followupGrant, "rep@acme.example", "google")
	w.nylas.AddEvent(followupGrant, "ev1", "primary", "Pilot <review>",
		"rep@acme.example", "Rita Rep", "lead@acme.example", "Lee Lead", "buyer@customer.example", "Bea Buyer")
	dir := filepath.Join(w.dataDir, "media", followupNT)
	os.MkdirAll(dir, 0o755)
	archived := map[string]store.ArchivedFile{"recording": {Name: "recording.mp4"}, "transcript": {Name: "transcript.json"}}
	if summary != "" {
		os.WriteFile(filepath.Join(dir, "summary.json"), mustJSON(summary), 0o644)
		archived["summary"] = store.ArchivedFile{Name: "summary.json"}
	}
	os.WriteFile(filepath.Join(dir, "action_items.json"), mustJSON([]string{"Send the <contract>", "Book the kick-off"}), 0o644)
	archived["action_items"] = store.ArchivedFile{Name: "action_items.json"}
	db := storetest.MustOpenAt(t, w.dbPath)
	_, err := db.UpdateNotetaker(followupNT, func(nt *store.Notetaker) error {
		nt.GrantID, nt.ArchiveDone, nt.Archived = followupGrant, true, archived
		nt.Event = store.EventLink{EventID: "ev1", CalendarID: "primary"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	storetest.MustClose(t, db)
	return w
}

// followup opens the world's store (again) and returns a handler over it;
// attempts is the client's MaxAttempts.
func (w *followupWorld) followup(t *testing.T, attempts int) (*appliance.Followup, *store.DB) {
	t.Helper()
	db := storetest.MustOpenAt(t, w.dbPath)
	c := nylas.New(w.nylas.URL, followupKey)
	c.MaxAttempts, c.BackoffBase, c.BackoffMax = attempts, time.Millisecond, time.Millisecond
	links := &links.Signer{Key: []byte("0123456789abcdef0123"), BaseURL: "https://notes.acme.example", TTL: time.Hour, Now: time.Now}
	return &appliance.Followup{DB: db, Nylas: c, Links: links, DataDir: w.dataDir,
		InternalDomains: []string{"acme.example"}, To: "internal", Subject: "Notes: {{title}}",
		Logger: slog.New(slog.DiscardHandler)}, db
}

func runFollowup(f *appliance.Followup) error {
	return f.HandleFollowup(context.Background(), &store.Task{TaskRef: store.TaskRef{Kind: store.TaskFollowup, Subject: followupNT}})
}

// sends counts the messages/send requests the stand-in received.
func sends(s *nylastest.Server) []nylastest.Request {
	var out []nylastest.Request
	for _, r := range s.Requests() {
		if strings.HasSuffix(r.Path, "/messages/send") {
			out = append(out, r)
		}
	}
	return out
}

func TestFollowupSendsOneEmail(t *testing.T) {
	w := newFollowupWorld(t, "The buyer wants a pilot.\n\nBudget <approved>.")
	f, db := w.followup(t, 3)
	if err := runFollowup(f); err != nil {
		t.Fatal(err)
	}
	msgs := w.nylas.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Grant != followupGrant || m.IdempotencyKey != followupNT {
		t.Errorf("sent through %q with key %q, want %q and the Notetaker ID", m.Grant, m.IdempotencyKey, followupGrant)
	}
	var to []string
	for _, a := range m.Body["to"].([]any) {
		to = append(to, a.(map[string]any)["email"].(string))
	}
	if !reflect.DeepEqual(to, []string{"rep@acme.example", "lead@acme.example"}) {
		t.Errorf("to %v, want the internal participants", to)
	}
	if m.Body["subject"] != "Notes: Pilot <review>" {
		t.Errorf("subject %q", m.Body["subject"])
	}
	body := m.Body["body"].(string)
	for _, want := range []string{"The buyer wants a pilot.", "Budget &lt;approved&gt;.", "<li>Send the &lt;contract&gt;</li>",
		"<li>Book the kick-off</li>", `href="https://notes.acme.example/files/ntFollow1/recording.mp4?exp=`,
		"/files/ntFollow1/transcript.txt?exp="} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	fu, err := db.Followup(followupNT)
	if err != nil || fu.State != store.FollowupSent || fu.MessageID != m.ID {
		t.Errorf("stored %+v (%v), want sent with message %s", fu, err, m.ID)
	}
	// A replay of the meeting runs the task again: nothing more is sent.
	if err := runFollowup(f); err != nil {
		t.Fatal(err)
	}
	if n := len(sends(w.nylas)); n != 1 {
		t.Errorf("%d sends after a replay, want 1", n)
	}
}

func TestFollowupSentOnceAcrossACrashAndAReplay(t *testing.T) {
	w := newFollowupWorld(t, "Pilot agreed.")
	// The send reaches Nylas, but the process dies before the answer is
	// recorded: the answer is lost and the store is closed as it is.
	w.nylas.DropAnswer(func(method, path string) bool { return strings.HasSuffix(path, "/messages/send") })
	f, db := w.followup(t, 1)
	if err := runFollowup(f); err == nil {
		t.Fatal("the first run succeeded without an answer")
	}
	if fu, err := db.Followup(followupNT); err != nil || fu.State != store.FollowupIntent {
		t.Fatalf("after the lost answer: %+v (%v), want the intent recorded", fu, err)
	}
	storetest.MustClose(t, db) // the kill: nothing else is written

	w.nylas.DropAnswer(nil)
	f, db = w.followup(t, 3) // the restart: the task runs again
	if err := runFollowup(f); err != nil {
		t.Fatal(err)
	}
	if err := runFollowup(f); err != nil { // and a replay of the meeting
		t.Fatal(err)
	}
	if n := len(w.nylas.Messages()); n != 1 {
		t.Errorf("%d e-mails sent, want 1", n)
	}
	// net/http itself repeats a request with an Idempotency-Key on a broken
	// connection, so the lost answer may have cost more than one send.
	reqs := sends(w.nylas)
	for _, r := range reqs[1:] {
		if r.Body != reqs[0].Body || r.Header.Get("Idempotency-Key") != followupNT {
			t.Errorf("a repeat send differs from the first (Nylas refuses another body under the same key):\n%s\n%s", reqs[0].Body, r.Body)
		}
	}
	if fu, _ := db.Followup(followupNT); fu.State != store.FollowupSent {
		t.Errorf("state %q, want sent", fu.State)
	}
}

func TestFollowupIntentPastTheIdempotencyWindowIsNotSentAgain(t *testing.T) {
	w := newFollowupWorld(t, "Pilot agreed.")
	w.nylas.DropAnswer(func(method, path string) bool { return strings.HasSuffix(path, "/messages/send") })
	f, _ := w.followup(t, 1)
	runFollowup(f)
	before := len(sends(w.nylas))
	w.nylas.DropAnswer(nil)
	f.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if err := runFollowup(f); err != nil {
		t.Fatal(err)
	}
	if n := len(sends(w.nylas)); n != before {
		t.Errorf("sent again past Nylas' hour, when the key no longer protects")
	}
	fu, _ := f.DB.Followup(followupNT)
	if fu.State != store.FollowupSkipped || !strings.Contains(fu.Reason, "may have sent it") {
		t.Errorf("stored %+v", fu)
	}
}

func TestFollowupCases(t *testing.T) {
	cases := []struct {
		name      string
		summary   string
		edit      func(w *followupWorld, f *appliance.Followup)
		wantTo    []string
		wantState string
		wantErr   func(error) bool
	}{
		{name: "no summary: no e-mail", summary: "", wantState: store.FollowupSkipped},
		{name: "to all participants", summary: "S", edit: func(_ *followupWorld, f *appliance.Followup) { f.To = "all" },
			wantTo: []string{"rep@acme.example", "lead@acme.example", "buyer@customer.example"}, wantState: store.FollowupSent},
		{name: "no internal participant", summary: "S", edit: func(_ *followupWorld, f *appliance.Followup) { f.InternalDomains = []string{"other.example"} },
			wantState: store.FollowupSkipped},
		{name: "a booked meeting mails the booking's people", summary: "S", edit: func(_ *followupWorld, f *appliance.Followup) {
			f.DB.UpdateBooking("b1", func(b *store.Booking) error {
				b.NotetakerID, b.Title = followupNT, "Interview"
				b.Participants = []store.Participant{{Email: "Recruiter@acme.example"}, {Email: "cand@mail.example"}}
				return nil
			})
		}, wantTo: []string{"recruiter@acme.example"}, wantState: store.FollowupSent},
		{name: "a grant that may not send dead-letters", summary: "S", edit: func(w *followupWorld, _ *appliance.Followup) {
			w.nylas.Refuse(func(method, path string) (int, string, string) {
				if strings.HasSuffix(path, "/messages/send") {
					return http.StatusForbidden, "insufficient_scopes", "missing provider scopes required to send email"
				}
				return 0, "", ""
			})
		}, wantState: store.FollowupIntent, wantErr: func(err error) bool {
			var p *apperr.PermanentError
			return errors.As(err, &p) && strings.Contains(err.Error(), "insufficient_scopes")
		}},
		{name: "rate limited: retried later", summary: "S", edit: func(w *followupWorld, _ *appliance.Followup) {
			w.nylas.Refuse(func(method, path string) (int, string, string) {
				if strings.HasSuffix(path, "/messages/send") {
					return http.StatusTooManyRequests, "rate_limit_error", "slow down"
				}
				return 0, "", ""
			})
		}, wantState: store.FollowupIntent, wantErr: func(err error) bool {
			var p *apperr.PermanentError
			return err != nil && !errors.As(err, &p)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newFollowupWorld(t, tc.summary)
			f, db := w.followup(t, 1)
			if tc.edit != nil {
				tc.edit(w, f)
			}
			err := runFollowup(f)
			if tc.wantErr != nil {
				if !tc.wantErr(err) {
					t.Errorf("error %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			fu, ferr := db.Followup(followupNT)
			if ferr != nil || fu.State != tc.wantState {
				t.Errorf("stored %+v (%v), want state %q", fu, ferr, tc.wantState)
			}
			msgs := w.nylas.Messages()
			if tc.wantTo == nil {
				if len(msgs) != 0 {
					t.Errorf("sent %v", msgs)
				}
				return
			}
			var to []string
			for _, a := range msgs[0].Body["to"].([]any) {
				to = append(to, a.(map[string]any)["email"].(string))
			}
			if len(msgs) != 1 || !reflect.DeepEqual(to, tc.wantTo) {
				t.Errorf("%d messages to %v, want one to %v", len(msgs), to, tc.wantTo)
			}
		})
	}
}

func TestFollowupWaitsForTheArchive(t *testing.T) {
	w := newFollowupWorld(t, "S")
	f, db := w.followup(t, 1)
	db.UpdateNotetaker(followupNT, func(nt *store.Notetaker) error { nt.ArchiveDone = false; return nil })
	var later *apperr.LaterError
	if err := runFollowup(f); !errors.As(err, &later) {
		t.Errorf("err %v, want postponed", err)
	}
	if len(sends(w.nylas)) != 0 {
		t.Error("sent before the archive was complete")
	}
}
