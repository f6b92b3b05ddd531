package store

import (
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Loader writes many records in few, large transactions, for seeding a
// store quickly (bench/history) while nothing else writes to it. Records go
// through the same encoders, dedupe, counters and indexes as the ordinary
// writes; only the committer, and the fsync of every transaction but the
// last, are skipped. Get one from DB.Load.
type Loader struct {
	db    *DB
	tx    *bolt.Tx
	n     int
	batch int
}

// Load runs fn with a Loader that commits every batch writes (at least 1),
// without fsync, then commits the rest and syncs the file once. A crash
// during Load can lose what it wrote (never what was there before). The
// store must be open for writing.
func (db *DB) Load(batch int, fn func(l *Loader) error) (err error) {
	if db.ReadOnly {
		return errors.New("load: store is read-only")
	}
	db.db.NoSync = true
	defer func() {
		db.db.NoSync = false
		if serr := db.db.Sync(); err == nil && serr != nil {
			err = fmt.Errorf("load: %w", serr)
		}
	}()
	l := &Loader{db: db, batch: max(1, batch)}
	defer func() {
		if l.tx != nil {
			l.tx.Rollback()
		}
	}()
	if err := fn(l); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if l.tx != nil {
		tx := l.tx
		l.tx = nil
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("load: %w", err)
		}
	}
	return nil
}

// begin returns the open transaction, committing the current one first
// when it holds a full batch.
func (l *Loader) begin() (*bolt.Tx, error) {
	if l.tx != nil && l.n >= l.batch {
		tx := l.tx
		l.tx, l.n = nil, 0
		if err := tx.Commit(); err != nil {
			return nil, err
		}
	}
	if l.tx == nil {
		tx, err := l.db.db.Begin(true)
		if err != nil {
			return nil, err
		}
		l.tx = tx
	}
	l.n++
	return l.tx, nil
}

// Notification stores n as Ingest would (a duplicate envelope id is
// skipped), with ReceivedAt as given (now when zero), without tasks.
func (l *Loader) Notification(n Notification) error {
	tx, err := l.begin()
	if err != nil {
		return err
	}
	now := n.ReceivedAt
	if now.IsZero() {
		now = l.db.Now()
	}
	_, err = ingestTx(tx, &Ingest{Notification: n}, now)
	return err
}

// Notetaker stores nt as it is (FirstSeen and UpdatedAt included), with its
// counters and index entries.
func (l *Loader) Notetaker(nt *Notetaker) error {
	if nt.ID == "" {
		return errors.New("notetaker without id")
	}
	tx, err := l.begin()
	if err != nil {
		return err
	}
	b := tx.Bucket(bucketNotetakers)
	var was notetakerEntries
	if old := b.Get([]byte(nt.ID)); old != nil {
		var o Notetaker
		if err := json.Unmarshal(old, &o); err != nil {
			return err
		}
		was = entriesOf(&o)
	} else if err := addCounter(tx, recordsCounter(bucketNotetakers), 1); err != nil {
		return err
	}
	v, err := json.Marshal(nt)
	if err != nil {
		return err
	}
	if err := b.Put([]byte(nt.ID), v); err != nil {
		return err
	}
	return reindexNotetaker(tx, was, entriesOf(nt))
}
