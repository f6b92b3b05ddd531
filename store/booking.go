package store

import (
	"fmt"
	"time"
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
// stores it and returns a copy, in one transaction; see UpdateNotetaker.
func (db *DB) UpdateBooking(id string, fn func(*Booking) error) (*Booking, error) {
	now := db.Now()
	rec, err := updateRecord(db, bucketBookings, id, func(b *Booking) error {
		if b.ID == "" {
			b.ID, b.FirstSeen = id, now
		}
		b.UpdatedAt = now
		return fn(b)
	})
	if err != nil {
		return nil, fmt.Errorf("update booking %q: %w", id, err)
	}
	return rec, nil
}
