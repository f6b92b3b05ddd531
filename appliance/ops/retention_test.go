package ops

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/store"
)

func TestPruneReason(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	old := now.AddDate(0, 0, -40)
	// prunable is a meeting every rule allows to prune with keep_days 30.
	prunable := func() *store.Notetaker {
		return &store.Notetaker{ID: "nt-1", ArchiveDone: true, DeletesAt: now.AddDate(0, 0, -20),
			Archived: map[string]store.ArchivedFile{
				"recording": {Name: "recording.mp4", ArchivedAt: old},
				"summary":   {Name: "summary.json", ArchivedAt: old.Add(time.Hour)},
			}}
	}
	for _, tc := range []struct {
		name     string
		change   func(nt *store.Notetaker)
		keepDays int
		busy     bool
		want     string
	}{
		{name: "every condition met", keepDays: 30, want: ""},
		{name: "keep_days 0 keeps forever", keepDays: 0, want: "kept forever"},
		{name: "archived too recently", keepDays: 45, want: "archived too recently"},
		{name: "one file archived recently", keepDays: 30, want: "archived too recently",
			change: func(nt *store.Notetaker) {
				nt.Archived["thumbnail"] = store.ArchivedFile{Name: "thumbnail.png", ArchivedAt: now.AddDate(0, 0, -1)}
			}},
		{name: "archive not complete", keepDays: 30, want: "archive not complete",
			change: func(nt *store.Notetaker) { nt.ArchiveDone = false }},
		{name: "nothing archived", keepDays: 30, want: "archive not complete",
			change: func(nt *store.Notetaker) { nt.Archived = nil }},
		{name: "Nylas' deadline not passed", keepDays: 30, want: "Nylas' deadline has not passed",
			change: func(nt *store.Notetaker) { nt.DeletesAt = now.Add(time.Hour) }},
		{name: "Nylas' deadline unknown", keepDays: 30, want: "Nylas' deadline has not passed",
			change: func(nt *store.Notetaker) { nt.DeletesAt = time.Time{} }},
		{name: "a delivery still needs the files", keepDays: 30, busy: true, want: "a delivery still needs the files"},
		{name: "legal hold", keepDays: 30, want: "legal hold",
			change: func(nt *store.Notetaker) { nt.Hold = true }},
		{name: "legal hold wins over everything", keepDays: 30, busy: true, want: "legal hold",
			change: func(nt *store.Notetaker) { nt.Hold = true }},
		{name: "already pruned", keepDays: 30, want: "already pruned",
			change: func(nt *store.Notetaker) { nt.PrunedAt = now.AddDate(0, 0, -1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nt := prunable()
			if tc.change != nil {
				tc.change(nt)
			}
			if got := pruneReason(nt, now, tc.keepDays, tc.busy); got != tc.want {
				t.Fatalf("pruneReason = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRetention_Media runs retention over a store with meetings in several
// situations and checks exactly which folders lost their files.
func TestRetention_Media(t *testing.T) {
	s := newTestService(t)
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s.Now, s.DB.Now = c.Now, c.Now
	old := c.t.AddDate(0, 0, -40)
	meeting := func(id string, change func(nt *store.Notetaker)) {
		archiveMeeting(t, s.DataDir, id, map[string]string{"recording.mp4": "video " + id, "summary.json": "{}"})
		_, err := s.DB.UpdateNotetaker(id, func(nt *store.Notetaker) error {
			nt.ArchiveDone, nt.DeletesAt = true, c.t.AddDate(0, 0, -20)
			nt.Archived = map[string]store.ArchivedFile{"recording": {Name: "recording.mp4", ArchivedAt: old}, "summary": {Name: "summary.json", ArchivedAt: old}}
			if change != nil {
				change(nt)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	meeting("nt-old", nil)
	meeting("nt-held", func(nt *store.Notetaker) { nt.Hold = true })
	meeting("nt-recent", func(nt *store.Notetaker) {
		nt.Archived["summary"] = store.ArchivedFile{Name: "summary.json", ArchivedAt: c.t.AddDate(0, 0, -2)}
	})
	meeting("nt-before-deadline", func(nt *store.Notetaker) { nt.DeletesAt = c.t.AddDate(0, 0, 1) })
	meeting("nt-crm-dead", nil)
	if err := s.DB.Enqueue(store.TaskRef{Kind: store.TaskCRM, Subject: "nt-crm-dead"}); err != nil {
		t.Fatal(err)
	}
	leased, _, _ := s.DB.Lease(1, time.Minute)
	s.DB.Fail(leased[0], "crm down", time.Time{}) // dead-lettered: a retry would need the files

	res, err := s.Retention(context.Background(), RetentionPolicy{MediaKeepDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.MeetingsPruned, []string{"nt-old"}) || res.FilesRemoved != 2 {
		t.Fatalf("result %+v", res)
	}
	for _, id := range []string{"nt-old", "nt-held", "nt-recent", "nt-before-deadline", "nt-crm-dead"} {
		_, err := os.Stat(filepath.Join(s.DataDir, "media", id, "recording.mp4"))
		if gone := errors.Is(err, os.ErrNotExist); gone != (id == "nt-old") {
			t.Errorf("%s: recording gone %v", id, gone)
		}
		if _, err := os.Stat(filepath.Join(s.DataDir, "media", id, "manifest.json")); err != nil {
			t.Errorf("%s: manifest: %v", id, err)
		}
	}
	if nt, _ := s.DB.Notetaker("nt-old"); !nt.PrunedAt.Equal(c.t) {
		t.Fatalf("PrunedAt %v", nt.PrunedAt)
	}
	rep, err := s.Verify(context.Background())
	if err != nil || len(rep.Problems) != 0 || rep.Pruned != 2 {
		t.Fatalf("verify after retention: %+v %v", rep, err)
	}
	// Releasing the hold lets the next run prune it; a second run is
	// otherwise a no-op.
	if err := s.Hold(context.Background(), "nt-held", false); err != nil {
		t.Fatal(err)
	}
	res, err = s.Retention(context.Background(), RetentionPolicy{MediaKeepDays: 30})
	if err != nil || !slices.Equal(res.MeetingsPruned, []string{"nt-held"}) {
		t.Fatalf("second run: %+v %v", res, err)
	}
	// Replay never redelivers a pruned meeting.
	ingest(t, s.DB, "ntf-old", "notetaker.media", "nt-old")
	s.Redeliver = func(context.Context, *store.Notetaker) error { t.Fatal("redelivered a pruned meeting"); return nil }
	if _, err := s.Replay(context.Background(), ReplayRequest{ID: "ntf-old"}); err != nil {
		t.Fatal(err)
	}
}

func TestRetention_Notifications(t *testing.T) {
	s := newTestService(t)
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s.Now, s.DB.Now = c.Now, c.Now
	ref := store.TaskRef{Kind: store.TaskNotetaker, Subject: "nt-busy"}
	c.t = c.t.AddDate(0, 0, -20)
	ingest(t, s.DB, "ntf-old", "notetaker.meeting_state", "nt-1")
	ingest(t, s.DB, "ntf-old-referenced", "notetaker.meeting_state", "nt-busy", ref)
	c.t = c.t.AddDate(0, 0, 15)
	ingest(t, s.DB, "ntf-recent", "notetaker.meeting_state", "nt-1")
	c.t = c.t.AddDate(0, 0, 5)

	for _, tc := range []struct {
		name string
		days int
		want []string
	}{
		{"0 keeps everything", 0, []string{"ntf-old", "ntf-old-referenced", "ntf-recent"}},
		{"30 days: nothing old enough", 30, []string{"ntf-old", "ntf-old-referenced", "ntf-recent"}},
		{"7 days: old ones go unless a task refers to them", 7, []string{"ntf-old-referenced", "ntf-recent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Retention(context.Background(), RetentionPolicy{NotificationKeepDays: tc.days}); err != nil {
				t.Fatal(err)
			}
			var got []string
			s.Events(context.Background(), EventFilter{}, func(e Event) error { got = append(got, e.ID); return nil })
			if !slices.Equal(got, tc.want) {
				t.Fatalf("kept %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := s.DB.NotificationSeq("ntf-old"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dedupe key of a pruned notification: %v", err)
	}
	if _, err := s.DB.NotificationSeq("ntf-old-referenced"); err != nil {
		t.Fatalf("dedupe key of a kept notification: %v", err)
	}
}
