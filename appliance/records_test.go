package appliance_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/store"
)

// deliver posts each fixture, in order, through the real HTTP path and waits
// for the workers to drain the queue.
func deliver(t *testing.T, app *testApp, files ...string) {
	t.Helper()
	for _, f := range files {
		if status, resp := app.postSigned(t, fixture(t, f)); status != 200 {
			t.Fatalf("%s: status %d %s", f, status, resp)
		}
	}
	waitFor(t, "tasks to drain", drained(app.DB))
}

func TestRecords_Notetaker(t *testing.T) {
	cases := []struct {
		name  string
		files []string
		check func(t *testing.T, nt *store.Notetaker)
	}{
		{"created", []string{"notetaker-created.json"}, func(t *testing.T, nt *store.Notetaker) {
			if nt.State != "scheduled" || nt.GrantID != "grant-a1b2c3" || nt.Event.EventID != "7kq2c1vdd0l3o9n3h2" ||
				nt.MeetingProvider != "Google Meet" || nt.JoinTime.Unix() != 1737500936 {
				t.Fatalf("%+v", nt)
			}
		}},
		{"attending then failed entry", []string{"notetaker-meeting-state-attending.json", "notetaker-meeting-state-failed-entry.json"},
			func(t *testing.T, nt *store.Notetaker) {
				if nt.State != "failed_entry" || nt.MeetingState != "admission_timeout" {
					t.Fatalf("state %q/%q", nt.State, nt.MeetingState)
				}
			}},
		{"failed entry then a late, older attending", []string{"notetaker-meeting-state-failed-entry.json", "notetaker-meeting-state-attending.json"},
			func(t *testing.T, nt *store.Notetaker) {
				if nt.State != "failed_entry" || nt.MeetingState != "admission_timeout" {
					t.Fatalf("an older notification overwrote a newer state: %q/%q", nt.State, nt.MeetingState)
				}
			}},
		{"media processing then available", []string{"notetaker-media-processing.json", "notetaker-media-available.json"},
			func(t *testing.T, nt *store.Notetaker) {
				if nt.MediaStatus != "available" || nt.RetainedUntil.Unix() != 1738714136 {
					t.Fatalf("media %q until %v", nt.MediaStatus, nt.RetainedUntil)
				}
				if nt.State != "" {
					t.Fatalf("media state leaked into the bot state: %q", nt.State)
				}
			}},
		{"media available then late processing", []string{"notetaker-media-available.json", "notetaker-media-processing.json"},
			func(t *testing.T, nt *store.Notetaker) {
				if nt.MediaStatus != "available" {
					t.Fatalf("media %q", nt.MediaStatus)
				}
			}},
		{"deleted", []string{"notetaker-created.json", "notetaker-deleted.json"}, func(t *testing.T, nt *store.Notetaker) {
			if !nt.Deleted || nt.State != "scheduled" || len(nt.Seqs) != 2 {
				t.Fatalf("%+v", nt)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := openApp(t, true)
			deliver(t, app, tc.files...)
			nt, err := app.DB.Notetaker("nt7Hq2LmZ")
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, nt)
		})
	}
}

func TestRecords_MediaStatusSpellings(t *testing.T) {
	app := openApp(t, true)
	for i, spelling := range []string{"media_available", "deleted", "error", "media_processing"} {
		body := []byte(`{"id":"sp-` + spelling + `","type":"notetaker.media","time":` + string(rune('1'+i)) +
			`,"data":{"object":{"id":"ntSp` + spelling + `","state":"` + spelling + `"}}}`)
		if status, _ := app.postSigned(t, body); status != 200 {
			t.Fatal(status)
		}
	}
	waitFor(t, "tasks to drain", drained(app.DB))
	want := map[string]string{"media_available": "available", "deleted": "deleted", "error": "error", "media_processing": "processing"}
	for spelling, norm := range want {
		nt, err := app.DB.Notetaker("ntSp" + spelling)
		if err != nil || nt.MediaStatus != norm {
			t.Errorf("%s: %+v %v, want %s", spelling, nt, err, norm)
		}
	}
}

func TestRecords_Booking(t *testing.T) {
	cases := []struct {
		name       string
		files      []string
		wantStatus string
		wantStart  int64
	}{
		{"created", []string{"booking-created.json"}, "created", 1719842400},
		{"created, rescheduled", []string{"booking-created.json", "booking-rescheduled.json"}, "rescheduled", 1719928800},
		// The cancellation carries the pre-reschedule times; it must not move the interview back.
		{"created, rescheduled, cancelled", []string{"booking-created.json", "booking-rescheduled.json", "booking-cancelled.json"}, "cancelled", 1719928800},
		{"cancel overtakes create", []string{"booking-cancelled.json", "booking-created.json"}, "cancelled", 1719842400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := openApp(t, true)
			deliver(t, app, tc.files...)
			b, err := app.DB.Booking("bkg-5521")
			if err != nil {
				t.Fatal(err)
			}
			if b.Status != tc.wantStatus || b.Start.Unix() != tc.wantStart {
				t.Fatalf("status %q start %d, want %q %d", b.Status, b.Start.Unix(), tc.wantStatus, tc.wantStart)
			}
			if b.NotetakerID != "ntBk77Qe1" || b.EventID != "bk9evt2q8s" || len(b.Participants) != 2 ||
				b.Participants[0].Email != "dana.chen@candidates.example" || b.OrganizerCalendarID != "primary" {
				t.Fatalf("booking %+v", b)
			}
		})
	}
}

func TestRecords_GrantExpiredThenReauthenticated(t *testing.T) {
	app := openApp(t, true)
	deliver(t, app, "grant-expired.json")
	g, err := app.DB.Grant("grant-a1b2c3")
	if err != nil || !g.Expired || g.Email != "sarah@your-company.example" || g.ExpiredAt.Unix() != 1737700000 {
		t.Fatalf("after expiry: %+v %v", g, err)
	}
	updated := []byte(`{"id":"ntf-grant-0002","type":"grant.updated","time":1737800000,"data":{"object":{"grant_id":"grant-a1b2c3","reauthentication_flag":true}}}`)
	if status, _ := app.postSigned(t, updated); status != 200 {
		t.Fatal(status)
	}
	waitFor(t, "grant cleared", func() bool {
		g, err := app.DB.Grant("grant-a1b2c3")
		return err == nil && !g.Expired
	})
}

func TestRecords_RedeliveryAndReplayChangeNothing(t *testing.T) {
	app := openApp(t, true)
	deliver(t, app, "notetaker-created.json", "notetaker-meeting-state-attending.json")
	before, _ := app.DB.Notetaker("nt7Hq2LmZ")
	// Redelivery: stored once, no new task.
	deliver(t, app, "notetaker-created.json")
	// Replay: the same notification handled again by a task.
	app.DB.Enqueue(store.TaskRef{Kind: store.TaskNotetaker, Subject: "nt7Hq2LmZ"})
	waitFor(t, "tasks to drain", drained(app.DB))
	after, _ := app.DB.Notetaker("nt7Hq2LmZ")
	if !bytes.Equal(mustJSON(before.Seqs), mustJSON(after.Seqs)) || before.State != after.State || before.MeetingState != after.MeetingState {
		t.Fatalf("before %+v\nafter %+v", before, after)
	}
}

func TestRecords_AlertsRaisedOncePerHour(t *testing.T) {
	app := openApp(t, true)
	// failed_entry delivered five times (distinct envelope ids) → one alert.
	base := fixture(t, "notetaker-meeting-state-failed-entry.json")
	for i := range 5 {
		body := bytes.Replace(base, []byte(`"ntf-state-0002"`), []byte(`"ntf-state-fe-`+string(rune('a'+i))+`"`), 1)
		if status, _ := app.postSigned(t, body); status != 200 {
			t.Fatal(status)
		}
	}
	deliver(t, app, "grant-expired.json")
	alerts, err := app.DB.Alerts()
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, a := range alerts {
		kinds = append(kinds, string(a.Kind)+" "+a.Subject)
	}
	want := "[notetaker.failed_entry nt7Hq2LmZ grant.expired grant-a1b2c3]"
	if fmt.Sprint(kinds) != want {
		t.Fatalf("alerts %v, want %s", kinds, want)
	}
	if !strings.Contains(alerts[0].Message, "waited in the lobby") {
		t.Fatalf("failed_entry message %q should say what happened", alerts[0].Message)
	}
}
