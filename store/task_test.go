package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

// clock is a settable clock for a store.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func openWithClock(t *testing.T, path string) (*store.DB, *clock) {
	t.Helper()
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db := store.NewDB(path)
	db.Now = c.Now
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { storetest.MustClose(t, db) })
	return db, c
}

func mustLease(t *testing.T, db *store.DB, max int) ([]*store.Task, time.Time) {
	t.Helper()
	tasks, next, err := db.Lease(max, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tasks, next
}

func keys(tasks []*store.Task) string {
	var s []string
	for _, t := range tasks {
		s = append(s, t.Key())
	}
	return fmt.Sprint(s)
}

func TestTasks_LeaseCompleteDelete(t *testing.T) {
	db, _ := openWithClock(t, filepath.Join(t.TempDir(), "db"))
	for _, s := range []string{"a", "b", "c"} {
		if err := db.Enqueue(store.TaskRef{Kind: store.TaskNotetaker, Subject: s}); err != nil {
			t.Fatal(err)
		}
	}
	got, next := mustLease(t, db, 2)
	if keys(got) != "[notetaker/a notetaker/b]" || got[0].Attempts != 1 {
		t.Fatalf("first lease %s (attempts %d)", keys(got), got[0].Attempts)
	}
	if next.IsZero() {
		t.Fatal("a runnable task was left but next is zero")
	}
	if more, _ := mustLease(t, db, 10); keys(more) != "[notetaker/c]" {
		t.Fatalf("second lease %s: leased tasks handed out twice?", keys(more))
	}
	for _, task := range got {
		if err := db.Complete(task); err != nil {
			t.Fatal(err)
		}
	}
	tasks, _ := db.Tasks()
	if keys(tasks) != "[notetaker/c]" {
		t.Fatalf("after completing a and b: %s", keys(tasks))
	}
}

func TestTasks_WorkArrivingDuringRunRunsAgain(t *testing.T) {
	db, _ := openWithClock(t, filepath.Join(t.TempDir(), "db"))
	ctx := context.Background()
	if _, err := db.Ingest(ctx, ingestOf("ntf-1", "nt1")); err != nil {
		t.Fatal(err)
	}
	leased, _ := mustLease(t, db, 1)
	if len(leased) != 1 || fmt.Sprint(leased[0].Refs) != "[1]" {
		t.Fatalf("leased %+v", leased)
	}
	// A second notification lands while the worker runs.
	if _, err := db.Ingest(ctx, ingestOf("ntf-2", "nt1")); err != nil {
		t.Fatal(err)
	}
	if again, _ := mustLease(t, db, 1); len(again) != 0 {
		t.Fatal("a leased task was leased twice")
	}
	if err := db.Complete(leased[0]); err != nil {
		t.Fatal(err)
	}
	again, _ := mustLease(t, db, 1)
	if len(again) != 1 || fmt.Sprint(again[0].Refs) != "[2]" || again[0].Attempts != 1 {
		t.Fatalf("after completion: %+v, want the task again with only the new ref", again)
	}
	if err := db.Complete(again[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Task("notetaker/nt1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("task still there: %v", err)
	}
}

func TestTasks_FailBackoffDeadLetterRetry(t *testing.T) {
	db, clk := openWithClock(t, filepath.Join(t.TempDir(), "db"))
	ref := store.TaskRef{Kind: store.TaskBooking, Subject: "b1"}
	if err := db.Enqueue(ref); err != nil {
		t.Fatal(err)
	}
	leased, _ := mustLease(t, db, 1)
	if err := db.Fail(leased[0], "ats: 503", clk.now.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, next := mustLease(t, db, 1); len(got) != 0 || !next.Equal(clk.now.Add(30*time.Second)) {
		t.Fatalf("during back-off: leased %s, next %v", keys(got), next)
	}
	clk.Advance(31 * time.Second)
	leased, _ = mustLease(t, db, 1)
	if len(leased) != 1 || leased[0].Attempts != 2 || leased[0].LastError != "ats: 503" {
		t.Fatalf("after back-off: %+v", leased)
	}
	if err := db.Fail(leased[0], "ats: 400 bad request", time.Time{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(24 * time.Hour)
	if got, next := mustLease(t, db, 1); len(got) != 0 || !next.IsZero() {
		t.Fatalf("dead task leased: %s, next %v", keys(got), next)
	}
	task, _ := db.Task(ref.Key())
	if !task.Dead || task.LastError != "ats: 400 bad request" {
		t.Fatalf("dead letter = %+v", task)
	}
	if err := db.Retry(ref.Key()); err != nil {
		t.Fatal(err)
	}
	leased, _ = mustLease(t, db, 1)
	if len(leased) != 1 || leased[0].Attempts != 1 || leased[0].Dead {
		t.Fatalf("after retry: %+v", leased)
	}
	if err := db.Retry("booking/unknown"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retry unknown: %v", err)
	}
}

func TestTasks_NewWorkCutsBackoffShort(t *testing.T) {
	db, clk := openWithClock(t, filepath.Join(t.TempDir(), "db"))
	ref := store.TaskRef{Kind: store.TaskNotetaker, Subject: "nt1"}
	db.Enqueue(ref)
	leased, _ := mustLease(t, db, 1)
	db.Fail(leased[0], "boom", clk.now.Add(time.Hour))
	if err := db.Enqueue(ref); err != nil {
		t.Fatal(err)
	}
	if got, _ := mustLease(t, db, 1); len(got) != 1 {
		t.Fatal("new work did not make a backed-off task runnable")
	}
}

func TestTasks_ExpiredLeaseRunsAgain(t *testing.T) {
	db, clk := openWithClock(t, filepath.Join(t.TempDir(), "db"))
	db.Enqueue(store.TaskRef{Kind: store.TaskGrant, Subject: "g1"})
	if got, _ := mustLease(t, db, 1); len(got) != 1 {
		t.Fatal("not leased")
	}
	clk.Advance(59 * time.Second)
	if got, _ := mustLease(t, db, 1); len(got) != 0 {
		t.Fatal("leased again inside the lease")
	}
	clk.Advance(2 * time.Second)
	got, _ := mustLease(t, db, 1)
	if len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("after lease expiry: %+v", got)
	}
}

func TestTasks_LeasesReleasedOnReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, _ := openWithClock(t, path)
	db.Enqueue(store.TaskRef{Kind: store.TaskNotetaker, Subject: "nt1"})
	if got, _ := mustLease(t, db, 1); len(got) != 1 {
		t.Fatal("not leased")
	}
	// The process "dies" holding the lease; the next Open hands it out again
	// at once, without waiting for the lease to expire.
	storetest.MustClose(t, db)
	db, _ = openWithClock(t, path)
	got, _ := mustLease(t, db, 1)
	if len(got) != 1 || got[0].Key() != "notetaker/nt1" || got[0].Attempts != 2 {
		t.Fatalf("after reopen: %+v", got)
	}
}

func TestTasks_BadRefsRejected(t *testing.T) {
	db := storetest.MustOpen(t)
	for _, ref := range []store.TaskRef{{"", "x"}, {"kind", ""}, {"a/b", "x"}} {
		if err := db.Enqueue(ref); err == nil {
			t.Errorf("enqueue %+v accepted", ref)
		}
	}
}

func TestTasks_PostponeSpendsNoAttempt(t *testing.T) {
	db, clk := openWithClock(t, filepath.Join(t.TempDir(), "db"))
	db.Enqueue(store.TaskRef{Kind: store.TaskArchive, Subject: "nt1"})
	for range 5 {
		leased, _ := mustLease(t, db, 1)
		if len(leased) != 1 || leased[0].Attempts != 1 {
			t.Fatalf("leased %+v, want attempt 1 every time", leased)
		}
		if err := db.Postpone(leased[0], "disk low", clk.now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ := mustLease(t, db, 1); len(got) != 0 {
			t.Fatal("postponed task leased before its time")
		}
		clk.Advance(time.Minute)
	}
	task, _ := db.Task("archive/nt1")
	if task.LastError != "disk low" || task.Dead {
		t.Fatalf("task %+v", task)
	}
}

// TestDeadLetter: the dead letter and its alert are one transaction; a
// second dead letter of the same subject within the alert window records
// the task but no second alert, and a nil alert raises none.
func TestDeadLetter(t *testing.T) {
	db := storetest.MustOpen(t)
	db.AlertSinks = 2
	alert := &store.Alert{Kind: store.AlertDeliveryFailed, Subject: "nt1", Message: "crm said 400"}
	for i, a := range []*store.Alert{alert, alert, nil} {
		ref := store.TaskRef{Kind: store.TaskCRM, Subject: "nt1"}
		if i == 2 {
			ref.Subject = "nt2"
		}
		if err := db.Enqueue(ref); err != nil {
			t.Fatal(err)
		}
		leased, _, err := db.Lease(10, time.Minute) // the alert deliveries queued so far too
		j := slices.IndexFunc(leased, func(l *store.Task) bool { return l.TaskRef == ref })
		if err != nil || j < 0 {
			t.Fatalf("lease %v: %v %v", ref, leased, err)
		}
		if err := db.DeadLetter(leased[j], "crm said 400", a); err != nil {
			t.Fatal(err)
		}
		task, err := db.Task(ref.Key())
		if err != nil || !task.Dead || task.LastError != "crm said 400" {
			t.Fatalf("task %v: %+v %v", ref, task, err)
		}
	}
	alerts, err := db.Alerts()
	if err != nil || len(alerts) != 1 {
		t.Fatalf("alerts = %v %v, want exactly one", alerts, err)
	}
	if _, err := db.Task(store.AlertTask(1, 1).Key()); err != nil {
		t.Fatalf("the alert's delivery to the second sink is not queued: %v", err)
	}
}
