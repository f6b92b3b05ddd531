package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
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
	// Meeting is the meeting's title, times and participants (meeting.go).
	Meeting Meeting `json:"meeting,omitzero"`
	// MediaStatus is the normalised media state: processing, available,
	// error or deleted.
	MediaStatus   string    `json:"media_status,omitempty"`
	RetainedUntil time.Time `json:"retained_until,omitzero"` // when Nylas deletes the media, if it said
	Deleted       bool      `json:"deleted,omitempty"`       // notetaker.deleted arrived
	// Media is the newest set of signed media links known.
	Media MediaLinks `json:"media,omitzero"`
	// AvailableAt is when media was first seen available.
	AvailableAt time.Time `json:"available_at,omitzero"`
	// DeletesAt is when Nylas deletes the media: retained_until, else the
	// media endpoint's expires_at, else AvailableAt + 14 days.
	DeletesAt time.Time `json:"deletes_at,omitzero"`
	// Archived lists the files archived so far, by media kind.
	Archived map[string]ArchivedFile `json:"archived,omitempty"`
	// ArchiveDone is set once every wanted kind the media offers is archived.
	ArchiveDone bool `json:"archive_done,omitempty"`
	// ArchiveError is the last reason archiving failed or was refused.
	ArchiveError string `json:"archive_error,omitempty"`
	// Hold is a legal hold set by an operator (admin UI or CLI): retention
	// never removes the meeting's files while it is set.
	Hold bool `json:"hold,omitempty"`
	// PrunedAt is when retention removed the local copies of the archived
	// files ([archive] keep_days); manifest.json stays.
	PrunedAt time.Time `json:"pruned_at,omitzero"`
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

// MediaLinks are signed media URLs, by kind (recording, transcript, summary,
// action_items, thumbnail), with what is known about each file.
type MediaLinks struct {
	URLs   map[string]string `json:"urls,omitempty"`
	Sizes  map[string]int64  `json:"sizes,omitempty"`  // announced by the media endpoint
	Types  map[string]string `json:"types,omitempty"`  // content types announced by the media endpoint
	Format string            `json:"format,omitempty"` // recording_file_format
	// FetchedAt is when the links were minted (about when the notification
	// or API answer carrying them was received); they die 60 minutes later.
	FetchedAt time.Time `json:"fetched_at,omitzero"`
	Source    string    `json:"source,omitempty"` // "webhook" or "api"
}

// ArchivedFile is one archived media file.
type ArchivedFile struct {
	Name       string    `json:"name"` // final file name in the meeting's folder
	Bytes      int64     `json:"bytes"`
	SHA256     string    `json:"sha256"`
	ArchivedAt time.Time `json:"archived_at"`
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
// FirstSeen set when unknown), stores the result and returns a copy of it, in
// one transaction. UpdatedAt is set for fn. fn must be free of I/O and may run
// more than once (see writer.go); its error aborts the update.
func (db *DB) UpdateNotetaker(id string, fn func(*Notetaker) error) (*Notetaker, error) {
	now := db.Now()
	var was notetakerEntries // its counters and index entries (index_notetakers.go)
	nt, err := updateRecordThen(db, bucketNotetakers, id, func(nt *Notetaker) error {
		was = entriesOf(nt)
		if nt.ID == "" {
			nt.ID, nt.FirstSeen = id, now
		}
		nt.UpdatedAt = now
		return fn(nt)
	}, func(tx *bolt.Tx, nt *Notetaker) error { return reindexNotetaker(tx, was, entriesOf(nt)) })
	if err != nil {
		return nil, fmt.Errorf("update notetaker %q: %w", id, err)
	}
	return nt, nil
}

// RecordBot records a Notetaker this appliance created itself (`notekeeper
// bot join`), as its notetaker.created notification would: b's grant,
// meeting link and provider, event, join time, and its state when no
// notification has set one yet (a notification is newer and wins). Only
// what is still unknown is filled, so recording the same bot again (a join
// that found its bot already sent) changes nothing. From then on it is a
// meeting like any other: its media notification archives it, and the
// reconcile job finds it through the grant's list if that notification is
// missed.
func (db *DB) RecordBot(b Notetaker) (*Notetaker, error) {
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	return db.UpdateNotetaker(b.ID, func(nt *Notetaker) error {
		fill(&nt.GrantID, b.GrantID)
		fill(&nt.MeetingLink, b.MeetingLink)
		fill(&nt.MeetingProvider, b.MeetingProvider)
		fill(&nt.Event.EventID, b.Event.EventID)
		fill(&nt.Event.CalendarID, b.Event.CalendarID)
		if nt.JoinTime.IsZero() {
			nt.JoinTime = b.JoinTime
		}
		if nt.StateAt == 0 {
			fill(&nt.State, b.State)
		}
		return nil
	})
}
