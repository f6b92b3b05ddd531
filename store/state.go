package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Names of values in the state bucket.
const (
	// StateReconcilePrefix + grant ID is when that grant was last reconciled
	// successfully (a time).
	StateReconcilePrefix = "reconciled/"
)

// GetState decodes the value stored under name into v, or returns
// ErrNotFound.
func (db *DB) GetState(name string, v any) error {
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketState).Get([]byte(name))
		if b == nil {
			return ErrNotFound
		}
		return json.Unmarshal(b, v)
	})
	if err != nil {
		return fmt.Errorf("get state %q: %w", name, err)
	}
	return nil
}

// PutState stores v, JSON-encoded, under name.
func (db *DB) PutState(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("put state %q: %w", name, err)
	}
	err = db.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketState).Put([]byte(name), b) })
	if err != nil {
		return fmt.Errorf("put state %q: %w", name, err)
	}
	return nil
}
