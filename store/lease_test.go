package store_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/store"
)

// leaseOne enqueues kind/s if needed and leases it for a minute.
func leaseOne(t *testing.T, db *store.DB) *store.Task {
	t.Helper()
	got, _ := mustLease(t, db, 1)
	if len(got) != 1 {
		t.Fatalf("leased %d tasks, want 1", len(got))
	}
	return got[0]
}

// TestLease_StaleOutcomeIsDropped: a worker whose lease ran out and was
// handed to another cannot complete, fail, dead-letter or postpone the task:
// its outcome is ErrLeaseLost and changes nothing (issue 18 #2).
func TestLease_StaleOutcomeIsDropped(t *testing.T) {
	ref := store.TaskRef{Kind: "crm", Subject: "nt-1"}
	alert := &store.Alert{Kind: "delivery.failed", Subject: "nt-1", Message: "failed for good"}
	for _, tc := range []struct {
		name    string
		outcome func(db *store.DB, stale *store.Task) error
	}{
		{"complete", func(db *store.DB, stale *store.Task) error { return db.Complete(stale) }},
		{"fail with retry", func(db *store.DB, stale *store.Task) error {
			return db.Fail(stale, "502", time.Now().Add(time.Hour))
		}},
		{"fail for good", func(db *store.DB, stale *store.Task) error { return db.Fail(stale, "400", time.Time{}) }},
		{"dead letter with alert", func(db *store.DB, stale *store.Task) error { return db.DeadLetter(stale, "400", alert) }},
		{"postpone", func(db *store.DB, stale *store.Task) error {
			return db.Postpone(stale, "disk low", time.Now().Add(time.Hour))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, clk := openWithClock(t, filepath.Join(t.TempDir(), "db"))
			if err := db.Enqueue(ref); err != nil {
				t.Fatal(err)
			}
			stale := leaseOne(t, db)
			clk.Advance(2 * time.Minute) // the lease ran out
			fresh := leaseOne(t, db)
			if fresh.LeaseID == stale.LeaseID {
				t.Fatalf("second lease has the same id %d", fresh.LeaseID)
			}
			if err := tc.outcome(db, stale); !errors.Is(err, store.ErrLeaseLost) {
				t.Fatalf("stale outcome: %v, want ErrLeaseLost", err)
			}
			got, err := db.Task(ref.Key())
			if err != nil {
				t.Fatalf("task after a stale outcome: %v", err)
			}
			if got.Dead || got.Attempts != 2 || got.LeaseID != fresh.LeaseID || !got.Leased(clk.Now()) {
				t.Fatalf("task after a stale outcome: %+v", got)
			}
			if alerts, _ := db.Alerts(); len(alerts) != 0 {
				t.Fatalf("a stale dead letter raised %+v", alerts)
			}
			// The current holder's outcome counts.
			if err := db.Complete(fresh); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Task(ref.Key()); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("task after the fresh run completed: %v", err)
			}
		})
	}
}

// TestLease_RenewKeepsTheTask: a renewed lease is not handed out again, and
// a lease that was lost cannot be renewed.
func TestLease_RenewKeepsTheTask(t *testing.T) {
	db, clk := openWithClock(t, filepath.Join(t.TempDir(), "db"))
	ref := store.TaskRef{Kind: "archive", Subject: "nt-1"}
	if err := db.Enqueue(ref); err != nil {
		t.Fatal(err)
	}
	held := leaseOne(t, db)
	for range 5 { // 5 × 40 s: well past the one-minute lease
		clk.Advance(40 * time.Second)
		if err := db.Renew(held, time.Minute); err != nil {
			t.Fatalf("renew: %v", err)
		}
		if got, _ := mustLease(t, db, 1); len(got) != 0 {
			t.Fatalf("a renewed task was leased again: %s", keys(got))
		}
	}
	got, err := db.Task(ref.Key())
	if err != nil || got.Attempts != 1 || !got.LeaseUntil.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("task %+v, %v: want 1 attempt", got, err)
	}
	// The lease lapses and another worker takes it: renewing fails.
	clk.Advance(2 * time.Minute)
	other := leaseOne(t, db)
	if err := db.Renew(held, time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("renew a lost lease: %v, want ErrLeaseLost", err)
	}
	if err := db.Complete(other); err != nil {
		t.Fatal(err)
	}
	if err := db.Renew(other, time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("renew a completed task: %v, want ErrLeaseLost", err)
	}
}

// TestLease_CompleteAfterExpiryWithoutRival: a run that overran its lease
// but was not replaced still records its outcome.
func TestLease_CompleteAfterExpiryWithoutRival(t *testing.T) {
	db, clk := openWithClock(t, filepath.Join(t.TempDir(), "db"))
	ref := store.TaskRef{Kind: "crm", Subject: "nt-1"}
	if err := db.Enqueue(ref); err != nil {
		t.Fatal(err)
	}
	held := leaseOne(t, db)
	clk.Advance(2 * time.Minute)
	if err := db.Complete(held); err != nil {
		t.Fatalf("complete after expiry, no rival: %v", err)
	}
	if _, err := db.Task(ref.Key()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("task: %v", err)
	}
}

// TestLease_StaleRunOfARecreatedTask: a task completed, then enqueued again
// and leased; a stale copy of the first life cannot touch the second.
func TestLease_StaleRunOfARecreatedTask(t *testing.T) {
	db, clk := openWithClock(t, filepath.Join(t.TempDir(), "db"))
	ref := store.TaskRef{Kind: "crm", Subject: "nt-1"}
	db.Enqueue(ref)
	first := leaseOne(t, db)
	stale := *first
	if err := db.Complete(first); err != nil {
		t.Fatal(err)
	}
	db.Enqueue(ref)
	clk.Advance(time.Second)
	second := leaseOne(t, db)
	if err := db.Fail(&stale, "old run", time.Time{}); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("stale fail of a recreated task: %v, want ErrLeaseLost", err)
	}
	if got, _ := db.Task(ref.Key()); got == nil || got.Dead || got.LeaseID != second.LeaseID {
		t.Fatalf("task %+v", got)
	}
}
