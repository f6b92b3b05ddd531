package appliance_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

// openPool runs a pool with fast back-off over db with one handler for kind "k".
func openPool(t *testing.T, db *store.DB, h appliance.Handler, tune func(*appliance.Pool)) *appliance.Pool {
	t.Helper()
	p := appliance.NewPool(db)
	p.BackoffBase, p.BackoffMax = time.Millisecond, 5*time.Millisecond
	p.Handle("k", h)
	if tune != nil {
		tune(p)
	}
	if err := p.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func TestPool_Outcomes(t *testing.T) {
	cases := []struct {
		name      string
		handler   func(calls int) error // calls counts from 1
		wantCalls int
		wantDead  bool
	}{
		{"succeeds", func(int) error { return nil }, 1, false},
		{"fails twice then succeeds", func(n int) error {
			if n < 3 {
				return errors.New("503 from upstream")
			}
			return nil
		}, 3, false},
		{"panics once then succeeds", func(n int) error {
			if n == 1 {
				panic("boom")
			}
			return nil
		}, 2, false},
		{"permanent failure dead-letters at once", func(int) error {
			return apperr.Permanent(errors.New("400 bad request"))
		}, 1, true},
		{"always failing dead-letters after max attempts", func(int) error { return errors.New("timeout") }, 4, true},
		{"postponed ten times never dead-letters", func(n int) error {
			if n <= 10 {
				return apperr.Later(time.Millisecond, "disk low")
			}
			return nil
		}, 11, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.MustOpen(t)
			var calls atomic.Int32
			var dead atomic.Int32
			openPool(t, db, func(_ context.Context, _ *store.Task) error {
				return tc.handler(int(calls.Add(1)))
			}, func(p *appliance.Pool) {
				p.MaxAttempts = 4
				p.DeadLetterAlert = func(*store.Task, error) *store.Alert {
					dead.Add(1)
					return &store.Alert{Kind: store.AlertDeliveryFailed, Subject: "s", Message: "dead"}
				}
			})
			if err := db.Enqueue(store.TaskRef{Kind: "k", Subject: "s"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "task to finish", func() bool {
				task, err := db.Task("k/s")
				return errors.Is(err, store.ErrNotFound) || (err == nil && task.Dead)
			})
			if got := int(calls.Load()); got != tc.wantCalls {
				t.Errorf("handler ran %d times, want %d", got, tc.wantCalls)
			}
			task, err := db.Task("k/s")
			if tc.wantDead {
				// The alert is raised in the dead letter's own transaction.
				alerts, aerr := db.Alerts()
				if err != nil || !task.Dead || task.LastError == "" || dead.Load() != 1 || aerr != nil || len(alerts) != 1 {
					t.Fatalf("want dead letter with error, one DeadLetterAlert call and its alert stored with it: %+v %v (calls %d, alerts %v %v)",
						task, err, dead.Load(), alerts, aerr)
				}
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("task left behind: %+v %v", task, err)
			}
		})
	}
}

func TestPool_UnknownKindDeadLettered(t *testing.T) {
	db := storetest.MustOpen(t)
	openPool(t, db, func(context.Context, *store.Task) error { return nil }, nil)
	db.Enqueue(store.TaskRef{Kind: "mystery", Subject: "s"})
	waitFor(t, "dead letter", func() bool {
		task, err := db.Task("mystery/s")
		return err == nil && task.Dead
	})
}

func TestPool_BoundsConcurrency(t *testing.T) {
	db := storetest.MustOpen(t)
	var running, peak atomic.Int32
	var mu sync.Mutex
	done := map[string]bool{}
	openPool(t, db, func(_ context.Context, task *store.Task) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		running.Add(-1)
		mu.Lock()
		done[task.Subject] = true
		mu.Unlock()
		return nil
	}, func(p *appliance.Pool) { p.Workers = 3 })
	for i := range 30 {
		db.Enqueue(store.TaskRef{Kind: "k", Subject: string(rune('a' + i))})
	}
	waitFor(t, "all tasks", drained(db))
	if len(done) != 30 || peak.Load() > 3 || peak.Load() < 2 {
		t.Fatalf("ran %d tasks with peak concurrency %d; want 30 with at most 3 (and some overlap)", len(done), peak.Load())
	}
}

func TestPool_CloseInterruptsAndTaskRunsAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notekeeper.db")
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	p := appliance.NewPool(db)
	p.Handle("k", func(ctx context.Context, _ *store.Task) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	p.Open()
	db.Enqueue(store.TaskRef{Kind: "k", Subject: "long"})
	<-started
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	task, err := db.Task("k/long")
	if err != nil || task.Dead || task.LastError != "" {
		t.Fatalf("an interrupted task must stay queued without a failure: %+v %v", task, err)
	}
	db.Close()

	db = storetest.MustOpenAt(t, path)
	ran := make(chan struct{})
	openPool(t, db, func(context.Context, *store.Task) error { close(ran); return nil }, nil)
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("interrupted task did not run after restart")
	}
	waitFor(t, "task done", drained(db))
}

func TestPool_NewNotificationDuringRunIsHandled(t *testing.T) {
	db := storetest.MustOpen(t)
	release := make(chan struct{})
	var seen sync.Map
	first := true
	openPool(t, db, func(_ context.Context, task *store.Task) error {
		for _, r := range task.Refs {
			seen.Store(r, true)
		}
		if first {
			first = false
			<-release
		}
		return nil
	}, func(p *appliance.Pool) { p.Workers = 1 })
	ingest := func(id string) {
		_, err := db.Ingest(context.Background(), &store.Ingest{
			Notification: store.Notification{ID: id, Type: "t", Body: []byte("{}")},
			Tasks:        []store.TaskRef{{Kind: "k", Subject: "s"}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ingest("n1")
	waitFor(t, "first run", func() bool { _, ok := seen.Load(uint64(1)); return ok })
	ingest("n2") // arrives while the task runs
	close(release)
	waitFor(t, "second notification handled", func() bool { _, ok := seen.Load(uint64(2)); return ok })
	waitFor(t, "queue empty", drained(db))
}
