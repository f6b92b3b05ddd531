package store

import (
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the whole database file to w while the
// store stays open for reads and writes: the copy is the state of one read
// transaction (bbolt's Tx.WriteTo), so it never holds half of a commit.
// before, when not nil, is called first with the exact number of bytes that
// will be written (an archive format needs the size up front); its error
// aborts the backup. Backup returns the bytes written.
//
// The read transaction lasts as long as the copy: a slow w delays nothing
// but the reuse of pages freed meanwhile (the file may grow a little).
func (db *DB) Backup(w io.Writer, before func(size int64) error) (int64, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return 0, ErrClosed
	}
	var n int64
	err := db.db.View(func(tx *bolt.Tx) error {
		if before != nil {
			if err := before(tx.Size()); err != nil {
				return err
			}
		}
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backup store: %w", err)
	}
	return n, nil
}
