package store

import (
	"fmt"
	"time"
)

// Grant is what notifications told notekeeper about one grant.
type Grant struct {
	ID        string    `json:"id"`
	Provider  string    `json:"provider,omitempty"`
	Email     string    `json:"email,omitempty"`
	Expired   bool      `json:"expired,omitempty"` // grant.expired seen and not cleared by re-authentication
	ExpiredAt time.Time `json:"expired_at,omitzero"`
	Deleted   bool      `json:"deleted,omitempty"`
	// StateAt is the envelope time of the notification that last changed
	// Expired or Deleted.
	StateAt   int64     `json:"state_at,omitempty"`
	Seqs      []uint64  `json:"seqs,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Grant returns the grant with id, or ErrNotFound.
func (db *DB) Grant(id string) (*Grant, error) {
	g, err := getRecord[Grant](db, bucketGrants, id)
	if err != nil {
		return nil, fmt.Errorf("get grant %q: %w", id, err)
	}
	return g, nil
}

// UpdateGrant applies fn to the grant with id (a new one when unknown) and
// stores it, in one transaction; see UpdateNotetaker.
func (db *DB) UpdateGrant(id string, fn func(*Grant) error) (*Grant, error) {
	now := db.Now()
	rec, err := updateRecord(db, bucketGrants, id, func(g *Grant) error {
		if g.ID == "" {
			g.ID, g.FirstSeen = id, now
		}
		g.UpdatedAt = now
		return fn(g)
	})
	if err != nil {
		return nil, fmt.Errorf("update grant %q: %w", id, err)
	}
	return rec, nil
}
