package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

func TestOpen_PermissionsAndLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "notekeeper.db")
	storetest.MustOpenAt(t, path)

	for name, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", name, got, want)
		}
	}

	second := store.NewDB(path)
	second.LockTimeout = 50 * time.Millisecond
	err := second.Open()
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
}

func TestOpen_TightensLooseFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notekeeper.db")
	db := storetest.MustOpenAt(t, path)
	storetest.MustClose(t, db)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	storetest.MustOpenAt(t, path)
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v after reopen", fi.Mode().Perm())
	}
}

func TestOpen_ReadOnlyRefusesWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notekeeper.db")
	db := storetest.MustOpenAt(t, path)
	if _, err := db.UpdateGrant("g1", func(g *store.Grant) error { g.Email = "a@b.example"; return nil }); err != nil {
		t.Fatal(err)
	}
	storetest.MustClose(t, db)

	ro := store.NewDB(path)
	ro.ReadOnly = true
	if err := ro.Open(); err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if g, err := ro.Grant("g1"); err != nil || g.Email != "a@b.example" {
		t.Fatalf("read-only read: %+v, %v", g, err)
	}
	if _, err := ro.UpdateGrant("g2", func(*store.Grant) error { return nil }); err == nil {
		t.Fatal("write through a read-only store succeeded")
	}
}

func TestOpen_MissingFileReadOnly(t *testing.T) {
	ro := store.NewDB(filepath.Join(t.TempDir(), "nope.db"))
	ro.ReadOnly = true
	if err := ro.Open(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want not-exist", err)
	}
}

func TestClaimAlert_OncePerWindow(t *testing.T) {
	db := storetest.MustOpen(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }

	steps := []struct {
		name    string
		advance time.Duration
		kind    store.AlertKind
		subject string
		want    bool
	}{
		{"first", 0, store.AlertFailedEntry, "nt1", true},
		{"again at once", 0, store.AlertFailedEntry, "nt1", false},
		{"other subject", 0, store.AlertFailedEntry, "nt2", true},
		{"other kind", 0, store.AlertGrantExpired, "nt1", true},
		{"59 minutes later", 59 * time.Minute, store.AlertFailedEntry, "nt1", false},
		{"61 minutes later", 2 * time.Minute, store.AlertFailedEntry, "nt1", true},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		got, err := db.ClaimAlert(s.kind, s.subject, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if got != s.want {
			t.Errorf("%s: claim = %v, want %v", s.name, got, s.want)
		}
	}
}

func TestQuarantine(t *testing.T) {
	db := storetest.MustOpen(t)
	for _, reason := range []string{"not json", "missing id"} {
		if _, err := db.Quarantine(&store.Quarantined{Reason: reason, Body: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	qs, err := db.QuarantinedRequests()
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 2 || qs[0].Reason != "not json" || qs[1].Seq != 2 || string(qs[1].Body) != "x" || qs[0].ReceivedAt.IsZero() {
		t.Fatalf("quarantine = %+v", qs)
	}
}

func TestRecords_UpdateMerges(t *testing.T) {
	db := storetest.MustOpen(t)
	if _, err := db.UpdateNotetaker("nt1", func(nt *store.Notetaker) error { nt.State = "scheduled"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateNotetaker("nt1", func(nt *store.Notetaker) error { nt.MeetingState = "recording_active"; return nil }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if _, err := db.UpdateNotetaker("nt1", func(nt *store.Notetaker) error { nt.State = "lost"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error not returned: %v", err)
	}
	nt, err := db.Notetaker("nt1")
	if err != nil {
		t.Fatal(err)
	}
	if nt.ID != "nt1" || nt.State != "scheduled" || nt.MeetingState != "recording_active" || nt.FirstSeen.IsZero() {
		t.Fatalf("notetaker = %+v", nt)
	}
	if _, err := db.Notetaker("missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing notetaker: %v", err)
	}
	if _, err := db.Booking("missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing booking: %v", err)
	}
}

func TestRaiseAlert_LogsOncePerHour(t *testing.T) {
	db := storetest.MustOpen(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	raise := func(kind store.AlertKind, subject string) bool {
		t.Helper()
		ok, err := db.RaiseAlert(store.Alert{Kind: kind, Subject: subject, Message: "m"})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !raise(store.AlertArchiveAtRisk, "nt1") || raise(store.AlertArchiveAtRisk, "nt1") || !raise(store.AlertDiskLow, "/data") {
		t.Fatal("first alert of a kind and subject must be raised, a repeat within the hour not")
	}
	now = now.Add(time.Hour)
	if !raise(store.AlertArchiveAtRisk, "nt1") {
		t.Fatal("not raised again after an hour")
	}
	alerts, err := db.Alerts()
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 3 || alerts[0].Kind != store.AlertArchiveAtRisk || alerts[2].Time != now || alerts[1].Seq != 2 {
		t.Fatalf("alerts %+v", alerts)
	}
}

func TestState_RoundTrip(t *testing.T) {
	db := storetest.MustOpen(t)
	var got string
	if err := db.GetState("some_state", &got); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing state: %v", err)
	}
	if err := db.PutState("some_state", "wh-1"); err != nil {
		t.Fatal(err)
	}
	if err := db.GetState("some_state", &got); err != nil || got != "wh-1" {
		t.Fatalf("state %q %v", got, err)
	}
}

func TestRaiseAlert_QueuesOneTaskPerSink(t *testing.T) {
	db := store.NewDB(filepath.Join(t.TempDir(), "db"))
	db.AlertSinks = 2
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { storetest.MustClose(t, db) })
	db.RaiseAlert(store.Alert{Kind: store.AlertDiskLow, Subject: "/data", Message: "low"})
	db.RaiseAlert(store.Alert{Kind: store.AlertDiskLow, Subject: "/data", Message: "low again"}) // within the hour: nothing
	tasks, _ := db.Tasks()
	if len(tasks) != 2 || tasks[0].Key() != "alert/1-0" || tasks[1].Key() != "alert/1-1" {
		t.Fatalf("tasks %+v", tasks)
	}
	seq, sink, err := store.ParseAlertTask(tasks[1].Subject)
	if err != nil || seq != 1 || sink != 1 {
		t.Fatalf("parse %d %d %v", seq, sink, err)
	}
	if a, err := db.Alert(seq); err != nil || a.Message != "low" {
		t.Fatalf("alert %+v %v", a, err)
	}
}

func TestCounts(t *testing.T) {
	db := storetest.MustOpen(t)
	ctx := context.Background()
	for i, typ := range []string{"notetaker.media", "booking.created"} {
		if _, err := db.Ingest(ctx, &store.Ingest{Notification: store.Notification{ID: fmt.Sprint("n", i), Type: typ, Body: []byte("{}")},
			Tasks: []store.TaskRef{{Kind: "k", Subject: fmt.Sprint("s", i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.UpdateNotetaker("nt1", func(*store.Notetaker) error { return nil }); err != nil {
		t.Fatal(err)
	}
	leased, _, err := db.Lease(1, time.Minute)
	if err != nil || len(leased) != 1 {
		t.Fatalf("lease: %v %v", leased, err)
	}
	if err := db.Fail(leased[0], "boom", time.Time{}); err != nil {
		t.Fatal(err)
	}
	c, err := db.Counts()
	if err != nil {
		t.Fatal(err)
	}
	want := store.Counts{Notifications: 2, Notetakers: 1, TasksLive: 1, TasksDead: 1}
	if c != want {
		t.Fatalf("counts = %+v, want %+v", c, want)
	}
}

func TestCommitStats(t *testing.T) {
	db := storetest.MustOpen(t)
	before := db.CommitStats()
	for i := range 10 {
		if err := db.PutState(fmt.Sprint("k", i), i); err != nil {
			t.Fatal(err)
		}
	}
	after := db.CommitStats()
	if got := after.Writes - before.Writes; got != 10 {
		t.Fatalf("writes counted %d, want 10", got)
	}
	if after.Commits-before.Commits < 1 || after.Commits-before.Commits > 10 || after.Busy <= before.Busy {
		t.Fatalf("stats %+v → %+v", before, after)
	}
}
