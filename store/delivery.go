package store

import (
	"fmt"
	"time"
)

// What was delivered to the ATS, one record per booking, in the state
// bucket under StateATSPrefix + booking ID. The CRM's record has a bucket of
// its own (delivery_crm.go).

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
