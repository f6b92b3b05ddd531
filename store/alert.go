package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ClaimAlert decides, in one transaction, whether an alert of kind about
// subject may be sent now: it may when none was claimed within window. A
// successful claim records now, so concurrent callers cannot both win.
func (db *DB) ClaimAlert(kind, subject string, window time.Duration) (bool, error) {
	ok := false
	err := db.update(func(tx *bolt.Tx) error {
		ok = false // this may run twice; see writer.go
		now := db.Now()
		b := tx.Bucket(bucketAlerts)
		k := alertKey(kind, subject)
		if v := b.Get(k); len(v) == 8 {
			last := time.Unix(0, int64(beUint64(v)))
			if now.Sub(last) < window {
				return nil
			}
		}
		ok = true
		return b.Put(k, u64(uint64(now.UnixNano())))
	})
	if err != nil {
		return false, fmt.Errorf("claim alert %s %q: %w", kind, subject, err)
	}
	return ok, nil
}
