package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TaskRef names a task: its kind (which handler runs it) and its subject (the
// Notetaker, booking or grant it is about). The pair is the task's key, so
// every notification about one subject coalesces into one task.
type TaskRef struct {
	Kind    TaskKind `json:"kind"`
	Subject string   `json:"subject"`
}

// Key is the task key "{kind}/{subject}".
func (r TaskRef) Key() string { return string(r.Kind) + "/" + r.Subject }

// Task is one unit of durable work.
//
// A task is live (waiting, or leased to a worker) or dead-lettered. A leased
// task whose worker dies becomes runnable again when its lease expires, and at
// the next Open, so work is done at least once; handlers are idempotent.
type Task struct {
	TaskRef
	// Refs are the sequences of notifications not yet handled, in arrival
	// order. A handler handles them all; Complete removes the ones it was given.
	Refs []uint64 `json:"refs,omitempty"`
	// Gen counts enqueues; Complete compares it with the leased copy to learn
	// whether more work arrived while the task ran.
	Gen        uint64    `json:"gen"`
	Attempts   int       `json:"attempts"` // leases since the last success
	NextRun    time.Time `json:"next_run"` // due time, or lease expiry while leased
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	// LeaseID names the lease a worker got from Lease (unique across the
	// store: the tasks bucket's sequence). Renew, Complete, Fail, DeadLetter
	// and Postpone act only for the current lease; a stale copy gets
	// ErrLeaseLost. 0 for a task never leased.
	LeaseID   uint64    `json:"lease_id,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	Dead      bool      `json:"dead,omitempty"` // dead-lettered: runs again only by Retry
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Leased reports whether a worker holds the task at now.
func (t *Task) Leased(now time.Time) bool { return now.Before(t.LeaseUntil) }

// Enqueue makes the task for ref runnable now, creating it if needed and
// bringing it back if it was dead-lettered. ref's Kind and Subject must be
// non-empty and the Kind must not contain '/'.
func (db *DB) Enqueue(ref TaskRef) error {
	err := db.update(func(tx *bolt.Tx) error { return enqueueTx(tx, ref, 0, db.Now()) })
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", ref.Key(), err)
	}
	db.signalTasks()
	return nil
}

// enqueueTx is Enqueue inside tx; seq, when not 0, is added to the task's refs.
func enqueueTx(tx *bolt.Tx, ref TaskRef, seq uint64, now time.Time) error {
	if ref.Kind == "" || ref.Subject == "" || strings.Contains(string(ref.Kind), "/") {
		return fmt.Errorf("bad task ref %q/%q", ref.Kind, ref.Subject)
	}
	key := ref.Key()
	t, err := getTask(tx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		t = &Task{TaskRef: ref, CreatedAt: now, NextRun: now}
	case err != nil:
		return err
	case t.Dead:
		t.Dead, t.Attempts, t.NextRun = false, 0, now
	case t.Leased(now):
		// Keep the lease; Complete sees the new Gen and runs the task again.
	case t.NextRun.After(now):
		// New work cuts a retry back-off short.
		if err := tx.Bucket(bucketTasksDue).Delete(dueKey(t.NextRun, key)); err != nil {
			return err
		}
		t.NextRun = now
	}
	if seq != 0 && !slices.Contains(t.Refs, seq) {
		t.Refs = append(t.Refs, seq)
	}
	t.Gen++
	t.UpdatedAt = now
	return putTask(tx, t)
}

// Task returns the task with key, or ErrNotFound.
func (db *DB) Task(key string) (*Task, error) {
	var t *Task
	err := db.view(func(tx *bolt.Tx) (err error) { t, err = getTask(tx, key); return err })
	if err != nil {
		return nil, fmt.Errorf("get task %q: %w", key, err)
	}
	return t, nil
}

// Tasks returns every task, live and dead, in key order.
func (db *DB) Tasks() ([]*Task, error) {
	var out []*Task
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTasks).ForEach(func(k, v []byte) error {
			t, err := decodeTask(v)
			if err != nil {
				return fmt.Errorf("task %q: %w", k, err)
			}
			out = append(out, t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return out, nil
}

// Lease hands out up to max runnable tasks, each leased until now+lease, and
// counts the attempt. It also returns when the earliest task that is not yet
// runnable will be (zero when there is none), so a worker pool knows how long
// it may sleep.
func (db *DB) Lease(max int, lease time.Duration) ([]*Task, time.Time, error) {
	var out []*Task
	var next time.Time
	err := db.update(func(tx *bolt.Tx) error {
		out, next = out[:0], time.Time{} // this may run twice; see writer.go
		now := db.Now()
		due := tx.Bucket(bucketTasksDue)
		var keys [][]byte
		c := due.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			at, _ := parseDueKey(k)
			if at.After(now) {
				next = at
				break
			}
			if len(keys) == max {
				next = at
				break
			}
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			_, key := parseDueKey(k)
			if err := due.Delete(k); err != nil {
				return err
			}
			t, err := getTask(tx, key)
			if err != nil {
				return fmt.Errorf("due task %q: %w", key, err)
			}
			if t.LeaseID, err = tx.Bucket(bucketTasks).NextSequence(); err != nil {
				return err
			}
			t.Attempts++
			t.LeaseUntil = now.Add(lease)
			t.NextRun = t.LeaseUntil
			t.UpdatedAt = now
			if err := putTask(tx, t); err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("lease tasks: %w", err)
	}
	return out, next, nil
}

// Complete records that leased, as returned by Lease, succeeded. The task is
// deleted unless work arrived meanwhile; then the refs leased handled are
// removed and the task is runnable again at once. Completing a task that no
// longer exists is not an error; completing one whose lease was handed to
// another worker is ErrLeaseLost and changes nothing (so are Fail,
// DeadLetter and Postpone).
func (db *DB) Complete(leased *Task) error {
	again := false
	err := db.update(func(tx *bolt.Tx) error {
		again = false // this may run twice; see writer.go
		now := db.Now()
		t, err := takeLeased(tx, leased)
		if t == nil || err != nil {
			return err
		}
		if t.Gen == leased.Gen {
			return deleteTask(tx, t)
		}
		t.Refs = slices.DeleteFunc(t.Refs, func(s uint64) bool { return slices.Contains(leased.Refs, s) })
		t.Attempts, t.LastError, t.LeaseUntil = 0, "", time.Time{}
		t.NextRun, t.UpdatedAt = now, now
		again = true
		return putTask(tx, t)
	})
	if err != nil {
		return fmt.Errorf("complete task %s: %w", leased.Key(), err)
	}
	if again {
		db.signalTasks()
	}
	return nil
}

// Fail records that leased failed with msg. With retryAt set the task runs
// again then; with a zero retryAt it is dead-lettered: it keeps its refs and
// error and runs again only through Retry (or a new Enqueue).
func (db *DB) Fail(leased *Task, msg string, retryAt time.Time) error {
	err := db.update(func(tx *bolt.Tx) error {
		now := db.Now()
		t, err := takeLeased(tx, leased)
		if t == nil || err != nil {
			return err
		}
		t.LastError, t.LeaseUntil, t.UpdatedAt = msg, time.Time{}, now
		if retryAt.IsZero() {
			t.Dead = true
			return putTask(tx, t)
		}
		t.NextRun = retryAt
		return putTask(tx, t)
	})
	if err != nil {
		return fmt.Errorf("fail task %s: %w", leased.Key(), err)
	}
	return nil
}

// DeadLetter dead-letters leased with msg, like Fail with a zero retryAt,
// and in the same transaction raises alert (see RaiseAlert) when it is not
// nil: a crash can never keep the one without the other.
func (db *DB) DeadLetter(leased *Task, msg string, alert *Alert) error {
	raised := false
	err := db.update(func(tx *bolt.Tx) error {
		raised = false // this may run twice; see writer.go
		now := db.Now()
		t, err := takeLeased(tx, leased)
		if t == nil || err != nil {
			return err
		}
		t.LastError, t.LeaseUntil, t.UpdatedAt, t.Dead = msg, time.Time{}, now, true
		if err := putTask(tx, t); err != nil || alert == nil {
			return err
		}
		raised, err = db.raiseAlertTx(tx, *alert, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("dead-letter task %s: %w", leased.Key(), err)
	}
	if raised && db.AlertSinks > 0 {
		db.signalTasks()
	}
	return nil
}

// Postpone puts leased back in the queue until at without spending an
// attempt: the task could not start for a reason outside itself (the disk
// is low, an upstream asked to wait). reason is kept as LastError.
func (db *DB) Postpone(leased *Task, reason string, at time.Time) error {
	err := db.update(func(tx *bolt.Tx) error {
		t, err := takeLeased(tx, leased)
		if t == nil || err != nil {
			return err
		}
		t.Attempts = max(0, t.Attempts-1)
		t.LastError, t.LeaseUntil, t.UpdatedAt = reason, time.Time{}, db.Now()
		t.NextRun = at
		return putTask(tx, t)
	})
	if err != nil {
		return fmt.Errorf("postpone task %s: %w", leased.Key(), err)
	}
	return nil
}

// Renew extends leased's lease to now+lease, for a worker whose handler is
// still running: the task is not handed out again meanwhile. It returns
// ErrLeaseLost when leased no longer holds the task (the lease ran out and
// the task was leased again, or it was finished or released); the worker
// should then stop. leased itself is not modified.
func (db *DB) Renew(leased *Task, lease time.Duration) error {
	err := db.update(func(tx *bolt.Tx) error {
		t, err := takeLeased(tx, leased)
		if err != nil {
			return err
		}
		if t == nil {
			return ErrLeaseLost
		}
		t.LeaseUntil = db.Now().Add(lease)
		t.NextRun = t.LeaseUntil
		return putTask(tx, t)
	})
	if err != nil {
		return fmt.Errorf("renew lease of task %s: %w", leased.Key(), err)
	}
	return nil
}

// Retry makes a dead-lettered or waiting task runnable now with a fresh
// attempt count. It returns ErrNotFound for an unknown key.
func (db *DB) Retry(key string) error {
	err := db.update(func(tx *bolt.Tx) error {
		now := db.Now()
		t, err := getTask(tx, key)
		if err != nil {
			return err
		}
		if t.Leased(now) {
			return nil // running now; it will report on its own
		}
		if !t.Dead {
			if err := tx.Bucket(bucketTasksDue).Delete(dueKey(t.NextRun, key)); err != nil {
				return err
			}
		}
		t.Dead, t.Attempts, t.NextRun, t.UpdatedAt = false, 0, now, now
		return putTask(tx, t)
	})
	if err != nil {
		return fmt.Errorf("retry task %q: %w", key, err)
	}
	db.signalTasks()
	return nil
}

// releaseLeases makes every leased task runnable at now. Open calls it: the
// process that held the leases is gone.
func releaseLeases(tx *bolt.Tx, now time.Time) error {
	var leased []*Task
	err := tx.Bucket(bucketTasks).ForEach(func(_, v []byte) error {
		t, err := decodeTask(v)
		if err != nil {
			return err
		}
		if !t.LeaseUntil.IsZero() && !t.Dead {
			leased = append(leased, t)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range leased {
		if err := tx.Bucket(bucketTasksDue).Delete(dueKey(t.NextRun, t.Key())); err != nil {
			return err
		}
		t.LeaseUntil, t.NextRun = time.Time{}, now
		if err := putTask(tx, t); err != nil {
			return err
		}
	}
	return nil
}

// takeTask loads the task with key and removes its tasks_due entry, for a
// caller that will putTask it with a new schedule (or delete it). A task that
// no longer exists is (nil, nil).
func takeTask(tx *bolt.Tx, key string) (*Task, error) {
	t, err := getTask(tx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if !t.Dead {
		if err := tx.Bucket(bucketTasksDue).Delete(dueKey(t.NextRun, key)); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// takeLeased is takeTask for the holder of a lease: a task that no longer
// exists is (nil, nil); one that leased does not hold (another lease, or no
// lease: released or finished) is ErrLeaseLost, and is left untouched.
func takeLeased(tx *bolt.Tx, leased *Task) (*Task, error) {
	t, err := getTask(tx, leased.Key())
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if t.Dead || t.LeaseUntil.IsZero() || t.LeaseID != leased.LeaseID {
		return nil, ErrLeaseLost
	}
	return takeTask(tx, leased.Key())
}

func getTask(tx *bolt.Tx, key string) (*Task, error) {
	v := tx.Bucket(bucketTasks).Get([]byte(key))
	if v == nil {
		return nil, ErrNotFound
	}
	return decodeTask(v)
}

// putTask writes t and, unless it is dead, its tasks_due entry at t.NextRun,
// and keeps the queue's counters (index_tasks.go). Callers delete the old due
// entry first when NextRun changed.
func putTask(tx *bolt.Tx, t *Task) error {
	v, err := json.Marshal(t)
	if err != nil {
		return err
	}
	b := tx.Bucket(bucketTasks)
	if err := countTask(tx, b.Get([]byte(t.Key())), t); err != nil {
		return err
	}
	if err := b.Put([]byte(t.Key()), v); err != nil {
		return err
	}
	if t.Dead {
		return nil
	}
	return tx.Bucket(bucketTasksDue).Put(dueKey(t.NextRun, t.Key()), nil)
}

func decodeTask(v []byte) (*Task, error) {
	var t Task
	if err := json.Unmarshal(v, &t); err != nil {
		return nil, fmt.Errorf("decode task: %w", err)
	}
	return &t, nil
}
