package store

import (
	"fmt"
	"time"
)

// The states of a follow-up e-mail.
const (
	// FollowupIntent: the e-mail is about to be sent, or was sent by a
	// process that died before recording it.
	FollowupIntent = "intent"
	// FollowupSent: Nylas accepted the e-mail. Nothing sends it again.
	FollowupSent = "sent"
	// FollowupSkipped: no e-mail for this meeting (no summary, no
	// recipient); Reason says why.
	FollowupSkipped = "skipped"
)

// Followup is the follow-up e-mail of one meeting.
type Followup struct {
	NotetakerID string    `json:"notetaker_id"`
	State       string    `json:"state"`
	GrantID     string    `json:"grant_id,omitempty"`
	To          []string  `json:"to,omitempty"`
	Subject     string    `json:"subject,omitempty"`
	IntentAt    time.Time `json:"intent_at,omitzero"` // first intent: the Idempotency-Key's hour runs from here
	SentAt      time.Time `json:"sent_at,omitzero"`
	MessageID   string    `json:"message_id,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Followup returns the follow-up of Notetaker id, or ErrNotFound.
func (db *DB) Followup(id string) (*Followup, error) {
	f, err := getRecord[Followup](db, bucketFollowups, id)
	if err != nil {
		return nil, fmt.Errorf("get followup %q: %w", id, err)
	}
	return f, nil
}

// FollowupIntent records, before the send, that Notetaker id's follow-up
// is about to go to to through grant, and returns the record. An existing
// intent keeps its first IntentAt; a follow-up already sent is returned
// unchanged, so the caller sees it must not send. A skipped one may be
// tried again (its summary arrived later).
func (db *DB) FollowupIntent(id, grant, subject string, to []string) (*Followup, error) {
	now := db.Now()
	f, err := updateRecord(db, bucketFollowups, id, func(f *Followup) error {
		if f.State == FollowupSent {
			return nil
		}
		if f.IntentAt.IsZero() {
			f.IntentAt = now
		}
		f.NotetakerID, f.State, f.GrantID, f.Subject, f.To, f.UpdatedAt = id, FollowupIntent, grant, subject, to, now
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record followup intent %q: %w", id, err)
	}
	return f, nil
}

// FollowupSent records that Nylas accepted Notetaker id's follow-up.
func (db *DB) FollowupSent(id, messageID string) error {
	now := db.Now()
	_, err := updateRecord(db, bucketFollowups, id, func(f *Followup) error {
		f.NotetakerID, f.State, f.MessageID, f.SentAt, f.Reason, f.UpdatedAt = id, FollowupSent, messageID, now, "", now
		return nil
	})
	if err != nil {
		return fmt.Errorf("record followup sent %q: %w", id, err)
	}
	return nil
}

// FollowupSkipped records that Notetaker id gets no follow-up, and why,
// unless it was sent already.
func (db *DB) FollowupSkipped(id, reason string) error {
	now := db.Now()
	_, err := updateRecord(db, bucketFollowups, id, func(f *Followup) error {
		if f.State == FollowupSent {
			return nil
		}
		f.NotetakerID, f.State, f.Reason, f.UpdatedAt = id, FollowupSkipped, reason, now
		return nil
	})
	if err != nil {
		return fmt.Errorf("record followup skipped %q: %w", id, err)
	}
	return nil
}
