package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// pruneBatch bounds the notifications one PruneNotifications transaction
// deletes, so that a first run over a large store does not hold one huge
// write transaction.
const pruneBatch = 5000

// PruneNotifications deletes the notifications received before before,
// each with its dedupe key, except those a task still refers to (live or
// dead-lettered: a retry needs them). It works through the oldest first, in
// transactions of bounded size, and returns how many it deleted.
//
// A redelivery of a pruned notification is stored again as new; callers
// keep notifications long enough that Nylas has stopped retrying (config
// enforces at least 7 days).
func (db *DB) PruneNotifications(before time.Time) (int, error) {
	total := 0
	for {
		n := 0
		err := db.update(func(tx *bolt.Tx) error {
			var err error
			n, err = pruneNotificationsTx(tx, before, pruneBatch)
			return err
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("prune notifications: %w", err)
		}
		if n < pruneBatch {
			return total, nil
		}
	}
}

// pruneNotificationsTx deletes up to max notifications received before
// before that no task refers to.
func pruneNotificationsTx(tx *bolt.Tx, before time.Time, max int) (int, error) {
	referenced := map[uint64]bool{}
	err := tx.Bucket(bucketTasks).ForEach(func(_, v []byte) error {
		t, err := decodeTask(v)
		if err != nil {
			return err
		}
		for _, s := range t.Refs {
			referenced[s] = true
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	nb, dedupe := tx.Bucket(bucketNotifications), tx.Bucket(bucketDedupe)
	var doomed []*Notification
	c := nb.Cursor()
	for k, v := c.First(); k != nil && len(doomed) < max; k, v = c.Next() {
		seq := binary.BigEndian.Uint64(k)
		n, _, _, err := decodeHead(seq, v) // the body is not needed
		if err != nil {
			return 0, err
		}
		if !n.ReceivedAt.Before(before) {
			break // arrival order: everything after is newer
		}
		if !referenced[seq] {
			doomed = append(doomed, n)
		}
	}
	if err := addCounter(tx, counterNotificationsPruned, int64(len(doomed))); err != nil {
		return 0, err
	}
	for _, n := range doomed {
		if err := nb.Delete(u64(n.Seq)); err != nil {
			return 0, err
		}
		// Only the key that points at this notification: a later one with the
		// same id cannot exist, but do not trust that blindly.
		if v := dedupe.Get([]byte(n.ID)); v != nil && bytes.Equal(v, u64(n.Seq)) {
			if err := dedupe.Delete([]byte(n.ID)); err != nil {
				return 0, err
			}
		}
	}
	return len(doomed), nil
}
