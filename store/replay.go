package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Requeue enqueues refs again for the stored notification seq, each with seq
// as a ref, exactly as Ingest did when the notification arrived: the task's
// handler then merges the notification again (handlers are idempotent). It
// is how an operator replays a notification. It returns ErrNotFound when no
// notification seq is stored.
func (db *DB) Requeue(seq uint64, refs []TaskRef) error {
	err := db.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketNotifications).Get(u64(seq)) == nil {
			return ErrNotFound
		}
		now := db.Now()
		for _, ref := range refs {
			if err := enqueueTx(tx, ref, seq, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("requeue notification %d: %w", seq, err)
	}
	if len(refs) > 0 {
		db.signalTasks()
	}
	return nil
}
