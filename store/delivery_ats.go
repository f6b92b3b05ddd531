package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ATSDelivery is what the ATS was told about one booking, kept so that every
// run of the delivery sends only the difference and an interrupted create is
// resolved before anything is created again (docs/connectors.md).
type ATSDelivery struct {
	BookingID string `json:"booking_id"`
	// Connector is the [ats] type that holds the records below.
	Connector string `json:"connector,omitempty"`
	// Candidate is who the ATS knows the booking's candidate as; found once
	// (Matched) and kept.
	Candidate ATSCandidate `json:"candidate,omitzero"`
	Matched   bool         `json:"matched,omitempty"`
	// Unmatched: the ATS knows no candidate at Candidate.Email. Nothing is
	// created; the booking is listed in the UI and alerted once (Alerted).
	Unmatched bool      `json:"unmatched,omitempty"`
	Alerted   bool      `json:"alerted,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"` // the last candidate lookup
	// PreviousBooking is an earlier booking of the same candidate (a
	// rebooking after a cancel); its candidate is reused.
	PreviousBooking string `json:"previous_booking,omitempty"`
	// Interview is the ATS's interview record.
	Interview ATSRecord `json:"interview,omitzero"`
	// Told is what the interview (or its status notes) last said; while the
	// interview's create is unconfirmed, what its first attempt carried.
	Told ATSTold `json:"told,omitzero"`
	// Notes are the notes written, by ATSNoteKey.
	Notes     map[string]ATSRecord `json:"notes,omitempty"`
	UpdatedAt time.Time            `json:"updated_at"`
}

// ATSCandidate is a candidate as the ATS knows them.
type ATSCandidate struct {
	ID            string `json:"id,omitempty"`
	ApplicationID string `json:"application_id,omitempty"`
	Name          string `json:"name,omitempty"`
	Email         string `json:"email,omitempty"`
}

// ATSRecord is one record the delivery creates in the ATS. IntentAt is set
// (and persisted) before the create is sent and cleared with Done when its
// answer is stored: a record with IntentAt and not Done was interrupted and
// must be looked for before it is created again.
type ATSRecord struct {
	ID       string    `json:"id,omitempty"`
	Done     bool      `json:"done,omitempty"` // created; ID may be "" when the ATS answered none
	IntentAt time.Time `json:"intent_at,omitzero"`
	// AsNote: the ATS cannot hold the interview; it was written as a note.
	AsNote bool `json:"as_note,omitempty"`
}

// Pending reports whether a create was started and not confirmed.
func (r ATSRecord) Pending() bool { return !r.Done && !r.IntentAt.IsZero() }

// ATSTold is the state of the interview the ATS was last told.
type ATSTold struct {
	Start  time.Time `json:"start,omitzero"`
	End    time.Time `json:"end,omitzero"`
	Status string    `json:"status,omitempty"`
}

// ATSNoteKey is the Notes key of the note of an archived meeting; other notes
// are keyed by their kind ("scheduled", "cancelled", "rescheduled/{unix}").
func ATSNoteKey(notetakerID string) string { return "notes/" + notetakerID }

// ATSDelivery returns the delivery state of the booking with id, or
// ErrNotFound.
func (db *DB) ATSDelivery(bookingID string) (*ATSDelivery, error) {
	d, err := getRecord[ATSDelivery](db, bucketATSDelivery, bookingID)
	if err != nil {
		return nil, fmt.Errorf("get ats delivery %q: %w", bookingID, err)
	}
	return d, nil
}

// ATSDeliveries returns every booking's delivery state, in booking ID order.
func (db *DB) ATSDeliveries() ([]*ATSDelivery, error) {
	ds, err := listRecords[ATSDelivery](db, bucketATSDelivery)
	if err != nil {
		return nil, fmt.Errorf("list ats deliveries: %w", err)
	}
	return ds, nil
}

// UpdateATSDelivery applies fn to the delivery state of the booking (a new
// one when unknown), stores it and returns a copy, in one transaction. fn
// must not do I/O; if it returns an error nothing is written.
func (db *DB) UpdateATSDelivery(bookingID string, fn func(*ATSDelivery) error) (*ATSDelivery, error) {
	now := db.Now()
	d, err := updateRecord(db, bucketATSDelivery, bookingID, func(d *ATSDelivery) error {
		d.BookingID = bookingID
		d.UpdatedAt = now
		if d.Notes == nil {
			d.Notes = map[string]ATSRecord{}
		}
		return fn(d)
	})
	if err != nil {
		return nil, fmt.Errorf("update ats delivery %q: %w", bookingID, err)
	}
	return d, nil
}

// legacyATSState is the record an earlier release kept in the state bucket
// under "ats/{booking ID}" for the rest contract.
type legacyATSState struct {
	Created         bool      `json:"created"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	Status          string    `json:"status"`
	CandidateEmail  string    `json:"candidate_email"`
	PreviousBooking string    `json:"previous_booking"`
	Recordings      []string  `json:"recordings"`
}

// migrateATSState moves the "ats/" state records into the ats_delivery
// bucket as rest deliveries and deletes them.
func migrateATSState(tx *bolt.Tx) error {
	state, out := tx.Bucket(bucketState), tx.Bucket(bucketATSDelivery)
	prefix := []byte(StateATSPrefix)
	var keys [][]byte
	c := state.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var old legacyATSState
		if err := json.Unmarshal(v, &old); err != nil {
			return fmt.Errorf("decode state %q: %w", k, err)
		}
		id := string(k[len(prefix):])
		d := ATSDelivery{
			BookingID: id, Connector: "rest", Matched: true,
			Candidate:       ATSCandidate{Email: old.CandidateEmail},
			PreviousBooking: old.PreviousBooking,
			Interview:       ATSRecord{Done: old.Created},
			Told:            ATSTold{Start: old.Start, End: old.End, Status: old.Status},
			Notes:           map[string]ATSRecord{},
		}
		for _, nt := range old.Recordings {
			d.Notes[ATSNoteKey(nt)] = ATSRecord{Done: true}
		}
		b, err := json.Marshal(&d)
		if err != nil {
			return err
		}
		if err := out.Put([]byte(id), b); err != nil {
			return err
		}
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if err := state.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
