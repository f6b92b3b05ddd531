package store

import (
	"fmt"
	"time"
)

// What was delivered to the CRM and the ATS, one record per meeting or
// booking. They live in the state bucket, under StateCRMPrefix + Notetaker
// ID and StateATSPrefix + booking ID.

// CRMDelivery is what notekeeper remembers of one meeting's CRM record.
type CRMDelivery struct {
	RecordID    string    `json:"record_id,omitempty"`
	Hash        string    `json:"hash,omitempty"`      // of the content last sent
	Unmatched   []string  `json:"unmatched,omitempty"` // external e-mails with no CRM contact
	Skipped     string    `json:"skipped,omitempty"`   // why nothing was sent
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}

// ATSDelivery is what the ATS was told about one booking.
type ATSDelivery struct {
	Created         bool      `json:"created,omitempty"`
	Start           time.Time `json:"start,omitzero"`
	End             time.Time `json:"end,omitzero"`
	Status          string    `json:"status,omitempty"`
	CandidateEmail  string    `json:"candidate_email,omitempty"`
	PreviousBooking string    `json:"previous_booking,omitempty"` // an earlier booking of the same candidate
	Recordings      []string  `json:"recordings,omitempty"`       // Notetaker IDs whose recording was posted
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

// ATSDelivery returns the ATS record of booking id, or ErrNotFound when
// nothing was delivered or attempted yet.
func (db *DB) ATSDelivery(id string) (*ATSDelivery, error) {
	return getDelivery[ATSDelivery](db, "ats", StateATSPrefix+id)
}

// PutATSDelivery stores the ATS record of booking id.
func (db *DB) PutATSDelivery(id string, d *ATSDelivery) error {
	return db.PutState(StateATSPrefix+id, d)
}

func getDelivery[T any](db *DB, what, name string) (*T, error) {
	d := new(T)
	if err := db.GetState(name, d); err != nil {
		return nil, fmt.Errorf("%s delivery: %w", what, err)
	}
	return d, nil
}
