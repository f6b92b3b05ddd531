package appliance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/store"
)

// fakeIndex records the meetings the archiver asks it to re-read.
type fakeIndex struct {
	mu  sync.Mutex
	ids []string
}

func (f *fakeIndex) Update(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, id)
	return nil
}

func (f *fakeIndex) updated() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ids)
}

// acmeEventWithTime is fixtures/event-response.json with a "when" timespan,
// as the Events API gives a timed event.
func acmeEventWithTime(t *testing.T) string {
	var ev struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(fixture(t, "event-response.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev.Data["when"] = map[string]any{"object": "timespan", "start_time": 1769072400, "end_time": 1769074200,
		"start_timezone": "Europe/Berlin", "end_timezone": "Europe/Berlin"}
	return string(mustJSON(ev.Data))
}

// readManifestMeeting reads the meeting fields of id's manifest.json.
func readManifestMeeting(t *testing.T, dataDir, id string) *archive.Manifest {
	t.Helper()
	dir, err := archive.MediaDir(dataDir, id)
	if err != nil {
		t.Fatal(err)
	}
	m, err := archive.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func participantsOf(ps []archive.Participant) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name+" <"+p.Email+">")
	}
	return strings.Join(out, ", ")
}

func TestMeeting_Metadata(t *testing.T) {
	cases := []struct {
		name     string
		id       string
		setup    func(t *testing.T, fake *fakeNylas, app *archiveApp)
		title    string
		starts   string
		ends     string
		people   string
		source   string
		apiCalls int // calendar event look-ups
	}{{
		name: "sales meeting from the calendar event",
		id:   "nt7Hq2LmZ",
		setup: func(t *testing.T, fake *fakeNylas, _ *archiveApp) {
			fake.add("nt7Hq2LmZ", "grant-a1b2c3", meetingFiles(t, 32<<10, "video/mp4"))
			fake.events["evt-nt7Hq2LmZ"] = acmeEventWithTime(t)
		},
		title: "Acme renewal call", starts: "2026-01-22T09:00:00Z", ends: "2026-01-22T09:30:00Z",
		people:   "Sarah Kim <sarah@your-company.example>, Jo Park <jo@acme.example>, Li Wu <li@acme.example>",
		source:   "event",
		apiCalls: 1,
	}, {
		name: "interview from the booking",
		id:   "ntBk77Qe1",
		setup: func(t *testing.T, fake *fakeNylas, app *archiveApp) {
			fake.add("ntBk77Qe1", "grant-1", meetingFiles(t, 32<<10, "video/mp4"))
			deliver(t, app.testApp, "booking-created.json")
		},
		title: "Interview with Dana Chen", starts: "2024-07-01T14:00:00Z", ends: "2024-07-01T14:45:00Z",
		people: "Dana Chen <dana.chen@candidates.example>, Sarah Kim <sarah@your-company.example>",
		source: "booking",
	}, {
		name: "no event, no booking: empty",
		id:   "ntAdHoc1",
		setup: func(t *testing.T, fake *fakeNylas, _ *archiveApp) {
			fake.add("ntAdHoc1", "grant-1", meetingFiles(t, 32<<10, "video/mp4")) // the event answers 404
		},
		apiCalls: 1,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeNylas(t)
			ix := &fakeIndex{}
			app := openArchiveApp(t, fake, func(a *appliance.Archiver) { a.Index = ix })
			tc.setup(t, fake, app)
			grant := "grant-1"
			if tc.id == "nt7Hq2LmZ" {
				grant = "grant-a1b2c3"
			}
			app.postSigned(t, fake.mediaNotification("n-"+tc.id, tc.id, grant, "available", "mp4", allKinds...))
			app.waitArchived(t, tc.id)
			waitFor(t, "queue to drain", drained(app.DB))

			nt, err := app.DB.Notetaker(tc.id)
			if err != nil {
				t.Fatal(err)
			}
			m := nt.Meeting
			if m.Title != tc.title || m.Source != tc.source || m.DescribedAt.IsZero() {
				t.Errorf("store: %+v", m)
			}
			if tc.starts != "" && (m.StartsAt.Format(time.RFC3339) != tc.starts || m.EndsAt.Format(time.RFC3339) != tc.ends) {
				t.Errorf("store times %v – %v, want %s – %s", m.StartsAt, m.EndsAt, tc.starts, tc.ends)
			}
			man := readManifestMeeting(t, app.DataDir, tc.id)
			if man.Title != tc.title || participantsOf(man.Participants) != tc.people {
				t.Errorf("manifest title %q participants %q, want %q %q", man.Title, participantsOf(man.Participants), tc.title, tc.people)
			}
			b, _ := json.Marshal(man)
			var raw map[string]any
			json.Unmarshal(b, &raw)
			if raw["starts_at"] != tc.starts || raw["ends_at"] != tc.ends {
				t.Errorf("manifest starts_at %v ends_at %v, want %q %q", raw["starts_at"], raw["ends_at"], tc.starts, tc.ends)
			}
			if len(fake.eventCalls) != tc.apiCalls {
				t.Errorf("event look-ups %v, want %d", fake.eventCalls, tc.apiCalls)
			}
			if got := ix.updated(); !slices.Contains(got, tc.id) {
				t.Errorf("index updates %v lack %s", got, tc.id)
			}
			// A replay of the archive asks nothing again.
			app.DB.Enqueue(store.TaskRef{Kind: store.TaskArchive, Subject: tc.id})
			waitFor(t, "queue to drain", drained(app.DB))
			if len(fake.eventCalls) != tc.apiCalls {
				t.Errorf("after a replay: event look-ups %v", fake.eventCalls)
			}
		})
	}
}

// A meeting archived before notekeeper kept metadata gets it on the next
// sweep, and is re-indexed.
func TestMeeting_SweepBackfills(t *testing.T) {
	fake := newFakeNylas(t)
	ix := &fakeIndex{}
	app := openArchiveApp(t, fake, func(a *appliance.Archiver) { a.Index = ix })
	fake.add("nt7Hq2LmZ", "grant-a1b2c3", meetingFiles(t, 32<<10, "video/mp4"))
	fake.events["evt-nt7Hq2LmZ"] = acmeEventWithTime(t)
	app.postSigned(t, fake.mediaNotification("n-1", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
	app.waitArchived(t, "nt7Hq2LmZ")
	waitFor(t, "queue to drain", drained(app.DB))

	// Make it look like an archive from before: no metadata anywhere.
	if _, err := app.DB.UpdateNotetaker("nt7Hq2LmZ", func(nt *store.Notetaker) error { nt.Meeting = store.Meeting{}; return nil }); err != nil {
		t.Fatal(err)
	}
	dir, _ := archive.MediaDir(app.DataDir, "nt7Hq2LmZ")
	man := readManifestMeeting(t, app.DataDir, "nt7Hq2LmZ")
	appliance.ManifestMeeting(man, store.Meeting{})
	if err := archive.WriteManifest(dir, man); err != nil {
		t.Fatal(err)
	}
	before := len(ix.updated())

	if err := app.Archiver.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if man := readManifestMeeting(t, app.DataDir, "nt7Hq2LmZ"); man.Title != "Acme renewal call" || len(man.Participants) != 3 {
		t.Fatalf("after the sweep the manifest says %q %v", man.Title, man.Participants)
	}
	if nt, _ := app.DB.Notetaker("nt7Hq2LmZ"); nt.Meeting.Source != "event" {
		t.Fatalf("after the sweep the store says %+v", nt.Meeting)
	}
	if got := ix.updated(); len(got) != before+1 {
		t.Fatalf("index updates %v, want one more than %d", got, before)
	}
	// Settled: the next sweep leaves it alone.
	calls := len(fake.eventCalls)
	if err := app.Archiver.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(fake.eventCalls) != calls {
		t.Fatalf("a second sweep read the event again: %v", fake.eventCalls)
	}
}

// The calendar event is fetched once, at the archive: the CRM delivery
// reads the participants the archiver kept.
func TestMeeting_CRMReusesTheEvent(t *testing.T) {
	fake, crm := newFakeNylas(t), newFakeCRM(t)
	acmeMeeting(t, fake, crm)
	app := openCRMApp(t, fake, crm, nil)
	app.postSigned(t, fake.mediaNotification("n-acme", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
	waitFor(t, "CRM record", func() bool { p, _, _ := crm.counts(); return p == 1 })
	waitFor(t, "queue to drain", drained(app.DB))
	if len(fake.eventCalls) != 1 {
		t.Fatalf("event look-ups %v, want one", fake.eventCalls)
	}
	if m := crm.meetings["m1"]; m["subject"] != "Acme renewal call" || fmt.Sprint(m["associated_contact_ids"]) != "[c-jo c-li]" {
		t.Fatalf("record %v", m)
	}
}
