package appliance_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

// TestPool_SlowHandlerKeepsItsLease is issue 18 #2 scaled down 100×: a 30 s
// lease becomes 300 ms and a 45 s task (1.5× the lease) and a hanging one
// (3× the lease) become 450 ms and 900 ms. The handler fails its first run
// and succeeds its second; with MaxAttempts 2 a single extra lease would
// dead-letter it with a false alert.
func TestPool_SlowHandlerKeepsItsLease(t *testing.T) {
	const lease = 300 * time.Millisecond
	for _, tc := range []struct {
		name string
		took time.Duration
	}{
		{"45 s task under a 30 s lease", lease * 3 / 2},
		{"task taking 3x its lease", 3 * lease},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.MustOpen(t)
			var (
				calls, inFlight, maxInFlight, deadLetters atomic.Int32
				mu                                        sync.Mutex
				attempts                                  []int
			)
			openPool(t, db, func(ctx context.Context, task *store.Task) error {
				n := calls.Add(1)
				cur := inFlight.Add(1)
				defer inFlight.Add(-1)
				for {
					m := maxInFlight.Load()
					if cur <= m || maxInFlight.CompareAndSwap(m, cur) {
						break
					}
				}
				mu.Lock()
				attempts = append(attempts, task.Attempts)
				mu.Unlock()
				select {
				case <-time.After(tc.took):
				case <-ctx.Done():
					return ctx.Err()
				}
				if n == 1 {
					return errors.New("CRM answered 502 after a long wait")
				}
				return nil
			}, func(p *appliance.Pool) {
				p.Lease = lease
				p.MaxAttempts = 2
				p.Poll = 20 * time.Millisecond
				p.DeadLetterAlert = func(*store.Task, error) *store.Alert {
					deadLetters.Add(1)
					return &store.Alert{Kind: "delivery.failed", Subject: "s", Message: "failed for good"}
				}
			})
			if err := db.Enqueue(store.TaskRef{Kind: "k", Subject: "s"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the task to finish", drained(db))
			time.Sleep(2 * lease) // a stray second run would show up here
			mu.Lock()
			defer mu.Unlock()
			t.Logf("runs %d, attempts seen %v, max in flight %d", calls.Load(), attempts, maxInFlight.Load())
			if got := maxInFlight.Load(); got != 1 {
				t.Errorf("%d runs in flight at once, want 1", got)
			}
			if got := calls.Load(); got != 2 {
				t.Errorf("%d runs, want 2 (one failure, one success)", got)
			}
			if len(attempts) != 2 || attempts[0] != 1 || attempts[1] != 2 {
				t.Errorf("attempts seen %v, want [1 2]", attempts)
			}
			if got := deadLetters.Load(); got != 0 {
				t.Errorf("%d dead letters (false 'failed for good' alerts), want 0", got)
			}
			alerts, err := db.Alerts()
			if err != nil {
				t.Fatal(err)
			}
			if len(alerts) != 0 {
				t.Errorf("alerts %+v, want none", alerts)
			}
		})
	}
}

// TestArchive_FileBeingFetchedIsLater: when another download is writing the
// same partial file (a run whose lease was lost, before fencing), the
// archive task is postponed without spending an attempt instead of failing
// (issue 18 #2).
func TestArchive_FileBeingFetchedIsLater(t *testing.T) {
	release := make(chan struct{})
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Content-Length", "4")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Write([]byte("mp4!"))
	}))
	t.Cleanup(storage.Close)
	t.Cleanup(func() { close(release) })
	fake := newFakeNylas(t)
	app := openArchiveApp(t, fake, func(a *appliance.Archiver) { a.Kinds = []string{"recording"} })
	link := storage.URL + "/rec.mp4?sig=1"
	dir := filepath.Join(app.DataDir, "media", "ntBusy1")
	started := make(chan struct{})
	go func() {
		close(started)
		app.Archiver.Fetcher.Fetch(context.Background(), archive.Request{URL: link, Dir: dir, Name: "recording.mp4"})
	}()
	<-started
	waitFor(t, "the first download to start", func() bool {
		_, err := os.Stat(filepath.Join(dir, ".recording.mp4.partial"))
		return err == nil
	})
	if status, _ := app.postSigned(t, recordingNotification("n-busy", "ntBusy1", link)); status != 200 {
		t.Fatalf("webhook status %d", status)
	}
	waitFor(t, "the archive task to be postponed", func() bool {
		task, err := app.DB.Task("archive/ntBusy1")
		return err == nil && !task.Leased(time.Now()) && task.NextRun.After(time.Now().Add(30*time.Second))
	})
	task, _ := app.DB.Task("archive/ntBusy1")
	if task.Attempts != 0 || task.Dead || !strings.Contains(task.LastError, "already being fetched") {
		t.Fatalf("task %+v: want postponed, no attempt spent", task)
	}
}

// TestPool_LostLeaseStopsTheRun: when the task is taken from a running
// handler (here: its lease is released under it, as a rival's outcome
// would), the next renewal finds out, the handler's ctx is cancelled, and
// its outcome is dropped and counted instead of overwriting the task.
func TestPool_LostLeaseStopsTheRun(t *testing.T) {
	db := storetest.MustOpen(t)
	const lease = 150 * time.Millisecond
	cancelled := make(chan time.Duration, 1)
	pool := openPool(t, db, func(ctx context.Context, task *store.Task) error {
		if task.Attempts == 1 {
			// Another party settles the task while this run goes on.
			if err := db.Postpone(task, "taken over", time.Now().Add(time.Hour)); err != nil {
				return err
			}
		}
		start := time.Now()
		select {
		case <-ctx.Done():
			cancelled <- time.Since(start)
			return errors.New("CRM call aborted")
		case <-time.After(10 * lease):
			return nil
		}
	}, func(p *appliance.Pool) { p.Lease, p.MaxAttempts = lease, 1 })
	if err := db.Enqueue(store.TaskRef{Kind: "k", Subject: "s"}); err != nil {
		t.Fatal(err)
	}
	var after time.Duration
	select {
	case after = <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler was not cancelled when its lease was lost")
	}
	waitFor(t, "the dropped outcome to be counted", func() bool { return pool.LeasesLost() == 1 })
	task, err := db.Task("k/s")
	if err != nil || task.Dead || task.LastError != "taken over" {
		t.Fatalf("task %+v, %v: the stale run's dead letter must not count", task, err)
	}
	t.Logf("handler cancelled %v after its lease was lost (lease %v)", after, lease)
	if after > lease {
		t.Errorf("cancelled after %v, want within a renewal period (%v)", after, lease/3)
	}
}
