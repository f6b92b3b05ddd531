package store

import (
	"fmt"
	"time"
)

// What was delivered to the CRM, one record per meeting, in the state bucket
// under StateCRMPrefix + Notetaker ID. The ATS's is in delivery_ats.go.

// CRMDelivery is what notekeeper remembers of one meeting's CRM record.
type CRMDelivery struct {
	RecordID    string    `json:"record_id,omitempty"`
	Hash        string    `json:"hash,omitempty"`      // of the content last sent
	Unmatched   []string  `json:"unmatched,omitempty"` // external e-mails with no CRM contact
	Skipped     string    `json:"skipped,omitempty"`   // why nothing was sent
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}

// CRMDelivery returns the CRM record of Notetaker id, or ErrNotFound when
// nothing was delivered or attempted yet.
func (db *DB) CRMDelivery(id string) (*CRMDelivery, error) {
	return getDelivery[CRMDelivery](db, "crm", StateCRMPrefix+id)
}

// PutCRMDelivery stores the CRM record of Notetaker id.
func (db *DB) PutCRMDelivery(id string, d *CRMDelivery) error {
	return db.PutState(StateCRMPrefix+id, d)
}

func getDelivery[T any](db *DB, what, name string) (*T, error) {
	d := new(T)
	if err := db.GetState(name, d); err != nil {
		return nil, fmt.Errorf("%s delivery: %w", what, err)
	}
	return d, nil
}
