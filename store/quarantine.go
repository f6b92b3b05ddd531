package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Quarantined is a signed request that was not a usable notification. It is
// kept for the operator to inspect, never processed.
type Quarantined struct {
	Seq        uint64    `json:"-"`
	ReceivedAt time.Time `json:"received_at"`
	Reason     string    `json:"reason"`
	Encoding   string    `json:"encoding,omitempty"`
	Signature  string    `json:"signature,omitempty"`
	Body       []byte    `json:"body"` // as received (decompressed when it could be)
}

// Quarantine stores q and returns its sequence. ReceivedAt is set by the store.
func (db *DB) Quarantine(q *Quarantined) (uint64, error) {
	var seq uint64
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketQuarantine)
		var err error
		if seq, err = b.NextSequence(); err != nil {
			return err
		}
		c := *q
		c.ReceivedAt = db.Now()
		v, err := json.Marshal(&c)
		if err != nil {
			return err
		}
		return b.Put(u64(seq), v)
	})
	if err != nil {
		return 0, fmt.Errorf("quarantine: %w", err)
	}
	return seq, nil
}

// QuarantinedRequests returns every quarantined request, oldest first.
func (db *DB) QuarantinedRequests() ([]*Quarantined, error) {
	var out []*Quarantined
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketQuarantine).ForEach(func(k, v []byte) error {
			q := new(Quarantined)
			if err := json.Unmarshal(v, q); err != nil {
				return err
			}
			q.Seq = beUint64(k)
			out = append(out, q)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list quarantine: %w", err)
	}
	return out, nil
}
