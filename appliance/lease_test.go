package appliance_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
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
