package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// CRMDelivery is what notekeeper knows of one meeting's CRM record: enough
// to create it exactly once whatever crashes, and to update it in place.
//
// The create protocol: Intent is written (and committed) before the
// vendor's create call; RecordID is written right after it answers. A record
// with Intent set and no RecordID means a create may have committed without
// its answer being kept, so the next run looks for the record's marker before
// creating again. Tasks follow the same protocol per action item.
type CRMDelivery struct {
	NotetakerID string `json:"notetaker_id"`
	// Connector is the [crm] type RecordID belongs to; a record made by
	// another connector is not this one's.
	Connector string `json:"connector,omitempty"`
	// Intent is when a create was last started without its answer being
	// recorded; zero once RecordID is known.
	Intent   time.Time `json:"intent,omitzero"`
	RecordID string    `json:"record_id,omitempty"`
	// RecordURL is the record's page in the vendor's UI, "" when unknown.
	RecordURL string `json:"record_url,omitempty"`
	Hash      string `json:"hash,omitempty"` // of the content last written
	// ContactIDs are the contacts the record is associated with, in
	// participant order; Unmatched the external e-mails the CRM does not know.
	ContactIDs []string `json:"contact_ids,omitempty"`
	Unmatched  []string `json:"unmatched,omitempty"`
	// Created: e-mail → contact ID of the contacts notekeeper created;
	// ContactIntents: e-mail → when a contact create was started.
	Created        map[string]CRMContact `json:"created,omitempty"`
	ContactIntents map[string]time.Time  `json:"contact_intents,omitempty"`
	// Tasks: task marker → vendor task ID; TaskIntents: marker → when its
	// create was started.
	Tasks       map[string]string    `json:"tasks,omitempty"`
	TaskIntents map[string]time.Time `json:"task_intents,omitempty"`
	Skipped     string               `json:"skipped,omitempty"` // why nothing was sent
	DeliveredAt time.Time            `json:"delivered_at,omitzero"`
}

// CRMContact is a contact notekeeper created in the CRM.
type CRMContact struct {
	ID        string `json:"id"`
	DealID    string `json:"deal_id,omitempty"`
	CompanyID string `json:"company_id,omitempty"`
}

// CRMDelivery returns the CRM delivery record of Notetaker id, or
// ErrNotFound when nothing was delivered or attempted.
func (db *DB) CRMDelivery(id string) (*CRMDelivery, error) {
	var d CRMDelivery
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCRMDelivery).Get([]byte(id))
		if b == nil {
			return ErrNotFound
		}
		return json.Unmarshal(b, &d)
	})
	if err != nil {
		return nil, fmt.Errorf("crm delivery %q: %w", id, err)
	}
	return &d, nil
}

// PutCRMDelivery stores d as Notetaker id's record (setting d.NotetakerID),
// in one committed transaction: when it returns nil, a crash cannot lose d.
func (db *DB) PutCRMDelivery(id string, d *CRMDelivery) error {
	if id == "" {
		return fmt.Errorf("put crm delivery: no notetaker id")
	}
	d.NotetakerID = id
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("put crm delivery %q: %w", d.NotetakerID, err)
	}
	err = db.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketCRMDelivery).Put([]byte(d.NotetakerID), b) })
	if err != nil {
		return fmt.Errorf("put crm delivery %q: %w", d.NotetakerID, err)
	}
	return nil
}

// legacyCRMPrefix is the state-bucket prefix the CRM delivery lived under
// before it had a bucket ("crm/" + Notetaker ID → JSON).
const legacyCRMPrefix = "crm/"

// migrateCRMDelivery moves legacy "crm/" state values into crm_delivery.
// They were all written by the rest connector.
func migrateCRMDelivery(tx *bolt.Tx) error {
	state, dst := tx.Bucket(bucketState), tx.Bucket(bucketCRMDelivery)
	var moved [][]byte
	c := state.Cursor()
	for k, v := c.Seek([]byte(legacyCRMPrefix)); k != nil && bytes.HasPrefix(k, []byte(legacyCRMPrefix)); k, v = c.Next() {
		var d CRMDelivery
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("legacy crm state %q: %w", k, err)
		}
		d.NotetakerID = string(k[len(legacyCRMPrefix):])
		if d.RecordID != "" || d.Connector == "" {
			d.Connector = "rest"
		}
		b, err := json.Marshal(&d)
		if err != nil {
			return err
		}
		if err := dst.Put([]byte(d.NotetakerID), b); err != nil {
			return err
		}
		moved = append(moved, append([]byte(nil), k...))
	}
	for _, k := range moved {
		if err := state.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
