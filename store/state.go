package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Names of values in the state bucket (see buckets.go).
const (
	// StateReconcilePrefix + grant ID is when that grant was last reconciled
	// successfully (a time).
	StateReconcilePrefix = "reconciled/"
	// StateWebhook is the WebhookStatus the webhook_watchdog job last saw.
	StateWebhook = "webhook/status"
	// StateATSPrefix + booking ID held the booking's ATS delivery before
	// schema 3 moved it to the ats_delivery bucket (delivery_ats.go).
	StateATSPrefix = "ats/"
)

// WebhookStatus is what the webhook_watchdog job last learnt of this
// appliance's Nylas webhook destination.
type WebhookStatus struct {
	ID        string    `json:"id,omitempty"`
	Status    string    `json:"status,omitempty"` // active | failing | failed | pause
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// WebhookStatus returns the stored WebhookStatus, zero when the watchdog has
// not run yet.
func (db *DB) WebhookStatus() (WebhookStatus, error) {
	var ws WebhookStatus
	if err := db.GetState(StateWebhook, &ws); err != nil && !errors.Is(err, ErrNotFound) {
		return ws, err
	}
	return ws, nil
}

// PutWebhookStatus stores ws as the last WebhookStatus.
func (db *DB) PutWebhookStatus(ws WebhookStatus) error { return db.PutState(StateWebhook, ws) }

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
