// Package store keeps notekeeper's state in one bbolt file,
// {data_dir}/notekeeper.db: the notifications Nylas sent, their dedupe index,
// the durable task queue that turns them into work, and what is known of each
// Notetaker, booking and grant.
//
// A DB is made with NewDB, configured through its fields, opened with Open and
// closed with Close. Each exported method is one transaction; all writes go
// through one committer that shares each fsync among every write waiting at
// that moment (writer.go). Bucket names and key formats are declared in
// buckets.go. The indexes and counters that let jobs and views read what is
// pending instead of the whole history (index_notetakers.go,
// index_tasks.go, counters.go) are written in the same transactions as the
// records they describe, and Check recounts them (recount.go).
//
// The package imports no other notekeeper package and does no network I/O.
package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Sentinel errors. Absence is normal and reported with ErrNotFound.
var (
	// ErrNotFound: no record has that key.
	ErrNotFound = errors.New("not found")
	// ErrLocked: another process holds the database file.
	ErrLocked = errors.New("database is locked by another process (is notekeeper already running?)")
	// ErrClosed: the DB is closed or closing.
	ErrClosed = errors.New("store is closed")
	// ErrTooNew: the file was written by a newer notekeeper.
	ErrTooNew = errors.New("database schema is newer than this binary")
	// ErrLeaseLost: the caller's lease on a task ran out and the task was
	// leased again (or released, or finished): the caller's outcome is
	// dropped and the task is left to its current holder.
	ErrLeaseLost = errors.New("task lease lost")
)

// DB is notekeeper's store. Its methods are safe for concurrent use once Open
// has returned.
type DB struct {
	// Path of the bbolt file; its directory is created 0700 if missing.
	Path string
	// ReadOnly opens the file shared and read-only (for operator commands while
	// no daemon runs). Writes fail.
	ReadOnly bool
	// LockTimeout bounds the wait for the file lock; a second process fails
	// after it with ErrLocked. Default 2s.
	LockTimeout time.Duration
	// Now is the clock; one transaction reads it once. Default time.Now.
	Now func() time.Time
	// AlertSinks is how many alert sinks are configured: RaiseAlert queues
	// one delivery task per sink. Set it before alerts are raised.
	AlertSinks int
	// MaxBatch caps how many writes one commit carries.
	// Default 512.
	MaxBatch int

	db     *bolt.DB
	writer *committer
	wake   chan struct{}

	mu     sync.RWMutex
	closed bool
}

// NewDB returns a DB for the file at path. Nothing is opened until Open.
func NewDB(path string) *DB {
	return &DB{
		Path:        path,
		LockTimeout: 2 * time.Second,
		Now:         time.Now,
		MaxBatch:    512,
		wake:        make(chan struct{}, 1),
	}
}

// Open opens or creates the file, creates missing buckets, runs pending schema
// migrations and returns every task lease to the queue (no other process can
// hold one: the file lock is exclusive). It fails with ErrLocked when another
// process has the file and with ErrTooNew when a newer binary wrote it.
func (db *DB) Open() error {
	if db.ReadOnly {
		if _, err := os.Stat(db.Path); err != nil {
			return fmt.Errorf("open store: %w", err)
		}
	} else if err := os.MkdirAll(filepath.Dir(db.Path), 0o700); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	bdb, err := bolt.Open(db.Path, 0o600, &bolt.Options{
		Timeout:      db.LockTimeout,
		ReadOnly:     db.ReadOnly,
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return fmt.Errorf("open store %s: %w", db.Path, ErrLocked)
	} else if err != nil {
		return fmt.Errorf("open store %s: %w", db.Path, err)
	}
	db.db = bdb
	if !db.ReadOnly {
		// bbolt creates the file with the mode given, but an existing file keeps
		// whatever it had: tighten it.
		if err := os.Chmod(db.Path, 0o600); err != nil {
			bdb.Close()
			return fmt.Errorf("open store: %w", err)
		}
	}
	if err := db.init(); err != nil {
		bdb.Close()
		return fmt.Errorf("open store %s: %w", db.Path, err)
	}
	if !db.ReadOnly {
		db.writer = newCommitter(db)
	}
	return nil
}

// init brings the schema up to date and releases leases, in one transaction.
func (db *DB) init() error {
	if db.ReadOnly {
		return db.db.View(func(tx *bolt.Tx) error {
			v, err := schemaVersion(tx)
			if err != nil {
				return err
			}
			if v != uint64(len(migrations)) {
				return fmt.Errorf("schema version %d, this binary reads %d: open it read-write once with this binary", v, len(migrations))
			}
			return nil
		})
	}
	return db.db.Update(func(tx *bolt.Tx) error {
		if err := migrate(tx); err != nil {
			return err
		}
		return releaseLeases(tx, db.Now())
	})
}

// Close commits the writes already queued, then closes the file. Writes
// after Close fail with ErrClosed. Close is safe to call more than once.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed || db.db == nil {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	db.mu.Unlock()
	if db.writer != nil {
		db.writer.close()
	}
	if err := db.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// TaskSignal returns a channel that receives a value whenever a task may have
// become runnable (a notification was ingested, a task was retried). Workers
// wait on it between polls. Sends never block; one pending value stands for
// any number of changes.
func (db *DB) TaskSignal() <-chan struct{} { return db.wake }

func (db *DB) signalTasks() {
	select {
	case db.wake <- struct{}{}:
	default:
	}
}

// Ping proves the file is writable: it commits (and fsyncs) a small write.
// /readyz uses it.
func (db *DB) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := db.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyProbe, u64(uint64(db.Now().UnixNano())))
	})
	if err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// Check runs bbolt's consistency check over the whole file, then recounts
// the records to compare with the counters and indexes kept with them
// (recount.go), and returns every problem it finds joined into one error, or
// nil. It reads the whole file.
func (db *DB) Check() error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	return db.db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) == 0 {
			errs = append(errs, checkDerived(tx))
		}
		return errors.Join(errs...)
	})
}

// Size is the size of the database file in bytes.
func (db *DB) Size() (int64, error) {
	var n int64
	err := db.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n, err
}

// update runs fn in a read-write transaction through the committer (see
// writer.go: fn may run more than once and must reset its outputs).
func (db *DB) update(fn func(tx *bolt.Tx) error) error {
	return db.write(context.Background(), fn)
}

// view runs fn in a read-only transaction.
func (db *DB) view(fn func(tx *bolt.Tx) error) error {
	return db.db.View(fn)
}
