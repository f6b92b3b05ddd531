package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Booking is what notekeeper knows of one Scheduler booking.
type Booking struct {
	ID                  string        `json:"id"`
	ConfigurationID     string        `json:"configuration_id,omitempty"`
	Status              string        `json:"status,omitempty"` // created, pending, rescheduled, cancelled (from the trigger)
	EventID             string        `json:"event_id,omitempty"`
	ICalUID             string        `json:"ical_uid,omitempty"`
	NotetakerID         string        `json:"notetaker_id,omitempty"`
	Title               string        `json:"title,omitempty"`
	Location            string        `json:"location,omitempty"`
	Start               time.Time     `json:"start,omitzero"`
	End                 time.Time     `json:"end,omitzero"`
	Participants        []Participant `json:"participants,omitempty"`
	OrganizerCalendarID string        `json:"organizer_calendar_id,omitempty"`
	OrganizerTimezone   string        `json:"organizer_timezone,omitempty"`
	CancellationReason  string        `json:"cancellation_reason,omitempty"`
	// StateAt is the envelope time of the notification that last set Status.
	StateAt   int64     `json:"state_at,omitempty"`
	Seqs      []uint64  `json:"seqs,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Participant is a person on a booking or event.
type Participant struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// Booking returns the booking with id, or ErrNotFound.
func (db *DB) Booking(id string) (*Booking, error) {
	b, err := getRecord[Booking](db, bucketBookings, id)
	if err != nil {
		return nil, fmt.Errorf("get booking %q: %w", id, err)
	}
	return b, nil
}

// Bookings returns every booking, in id order.
func (db *DB) Bookings() ([]*Booking, error) {
	bs, err := listRecords[Booking](db, bucketBookings)
	if err != nil {
		return nil, fmt.Errorf("list bookings: %w", err)
	}
	return bs, nil
}

// UpdateBooking applies fn to the booking with id (a new one when unknown)
// stores it and returns a copy, in one transaction; see UpdateNotetaker. The
// same transaction keeps the booking indexes (BookingOf) in step.
func (db *DB) UpdateBooking(id string, fn func(*Booking) error) (*Booking, error) {
	now := db.Now()
	var old Booking
	rec, err := updateRecordThen(db, bucketBookings, id, func(b *Booking) error {
		old = *b
		if b.ID == "" {
			b.ID, b.FirstSeen = id, now
		}
		b.UpdatedAt = now
		return fn(b)
	}, func(tx *bolt.Tx, b *Booking) error {
		return reindexBookingTx(tx, id, &old, b)
	})
	if err != nil {
		return nil, fmt.Errorf("update booking %q: %w", id, err)
	}
	return rec, nil
}

// BookingOf returns the booking that owns a meeting: the one naming
// notetakerID as its Notetaker, else the one naming eventID (the meeting's
// calendar event; "" for none) as its event. When several qualify the lowest
// booking ID wins. It fails with ErrNotFound when none does. It reads the
// indexes, never the bookings bucket as a whole.
func (db *DB) BookingOf(notetakerID, eventID string) (*Booking, error) {
	var b *Booking
	err := db.view(func(tx *bolt.Tx) error {
		id, ok := firstIndexed(tx.Bucket(bucketBookingsByNotetaker), notetakerID)
		if !ok {
			id, ok = firstIndexed(tx.Bucket(bucketBookingsByEvent), eventID)
		}
		if !ok {
			return ErrNotFound
		}
		var err error
		b, err = getRecordTx[Booking](tx, bucketBookings, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("booking of notetaker %q / event %q: %w", notetakerID, eventID, err)
	}
	return b, nil
}

// maxIndexedLen bounds the values the booking indexes hold. Longer ones
// (no real Notetaker or event ID is) are not indexed and never found.
const maxIndexedLen = 1024

// indexable reports whether v is a value the indexes hold.
func indexable(v string) bool { return v != "" && len(v) <= maxIndexedLen }

// firstIndexed returns the lowest id indexed under value in b.
func firstIndexed(b *bolt.Bucket, value string) (string, bool) {
	if !indexable(value) {
		return "", false
	}
	prefix := indexPrefix(value)
	k, _ := b.Cursor().Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return "", false
	}
	return string(k[len(prefix):]), true
}

// reindexBookingTx moves booking id's index entries from what old named to
// what b names.
func reindexBookingTx(tx *bolt.Tx, id string, old, b *Booking) error {
	for _, ix := range []struct {
		bucket   []byte
		was, now string
	}{
		{bucketBookingsByNotetaker, old.NotetakerID, b.NotetakerID},
		{bucketBookingsByEvent, old.EventID, b.EventID},
	} {
		bk := tx.Bucket(ix.bucket)
		if ix.was != ix.now && indexable(ix.was) {
			if err := bk.Delete(indexKey(ix.was, id)); err != nil {
				return err
			}
		}
		if indexable(ix.now) {
			if err := bk.Put(indexKey(ix.now, id), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// indexBookingsTx rebuilds both booking indexes from the bookings bucket
// (the migration that introduced them).
func indexBookingsTx(tx *bolt.Tx) error {
	return tx.Bucket(bucketBookings).ForEach(func(k, v []byte) error {
		var b Booking
		if err := json.Unmarshal(v, &b); err != nil {
			return fmt.Errorf("decode booking %q: %w", k, err)
		}
		return reindexBookingTx(tx, string(k), &Booking{}, &b)
	})
}
