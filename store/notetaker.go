package store

import (
	"fmt"
	"time"
)

// Notetaker is what notekeeper knows of one Notetaker bot. The pipeline
// merges every notification about the bot into it; the store only keeps it.
type Notetaker struct {
	ID              string    `json:"id"`
	GrantID         string    `json:"grant_id,omitempty"` // empty for a standalone bot
	State           string    `json:"state,omitempty"`    // Nylas state (status when state is absent)
	MeetingState    string    `json:"meeting_state,omitempty"`
	MeetingProvider string    `json:"meeting_provider,omitempty"`
	MeetingLink     string    `json:"meeting_link,omitempty"`
	JoinTime        time.Time `json:"join_time,omitzero"`
	Event           EventLink `json:"event,omitzero"`
	// MediaStatus is the normalised media state: processing, available,
	// error or deleted.
	MediaStatus   string    `json:"media_status,omitempty"`
	RetainedUntil time.Time `json:"retained_until,omitzero"` // when Nylas deletes the media, if it said
	Deleted       bool      `json:"deleted,omitempty"`       // notetaker.deleted arrived
	// StateAt and MediaAt are the envelope times of the notifications that
	// last set State and MediaStatus, so a late, older notification cannot
	// overwrite a newer one.
	StateAt int64 `json:"state_at,omitempty"`
	MediaAt int64 `json:"media_at,omitempty"`
	// Seqs are the sequences of the notifications applied, in arrival order.
	Seqs      []uint64  `json:"seqs,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	UpdatedAt time.Time `json:"updated_at"`
}

// EventLink ties a Notetaker to a calendar event.
type EventLink struct {
	EventID       string `json:"event_id,omitempty"`
	ICalUID       string `json:"ical_uid,omitempty"`
	MasterEventID string `json:"master_event_id,omitempty"`
	CalendarID    string `json:"calendar_id,omitempty"`
}

// Notetaker returns the Notetaker with id, or ErrNotFound.
func (db *DB) Notetaker(id string) (*Notetaker, error) {
	nt, err := getRecord[Notetaker](db, bucketNotetakers, id)
	if err != nil {
		return nil, fmt.Errorf("get notetaker %q: %w", id, err)
	}
	return nt, nil
}

// Notetakers returns every Notetaker, in id order.
func (db *DB) Notetakers() ([]*Notetaker, error) {
	nts, err := listRecords[Notetaker](db, bucketNotetakers)
	if err != nil {
		return nil, fmt.Errorf("list notetakers: %w", err)
	}
	return nts, nil
}

// UpdateNotetaker applies fn to the Notetaker with id (a new one with ID,
// FirstSeen set when unknown) and stores the result, in one transaction.
// UpdatedAt is set for fn. fn must be free of I/O; its error aborts the update.
func (db *DB) UpdateNotetaker(id string, fn func(*Notetaker) error) error {
	now := db.Now()
	err := updateRecord(db, bucketNotetakers, id, func(nt *Notetaker) error {
		if nt.ID == "" {
			nt.ID, nt.FirstSeen = id, now
		}
		nt.UpdatedAt = now
		return fn(nt)
	})
	if err != nil {
		return fmt.Errorf("update notetaker %q: %w", id, err)
	}
	return nil
}
