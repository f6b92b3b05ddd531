package ops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/store"
)

// ReplayRequest names what to replay: one notification by envelope id, or
// every notification received since a time. Exactly one is set.
type ReplayRequest struct {
	ID    string    `json:"id,omitempty"`
	Since time.Time `json:"since,omitzero"`
}

// ReplayResult says what a replay queued.
type ReplayResult struct {
	Notifications int `json:"notifications"` // replayed (each implied at least one task)
	Skipped       int `json:"skipped"`       // selected but implying no task (unknown type, unusable object)
	Deliveries    int `json:"deliveries"`    // CRM/ATS deliveries queued again for archived meetings
}

// Replay runs the processing of stored notifications again: each one's
// tasks are derived anew with envelope.Route and queued with the
// notification as a ref, exactly as at ingest, so the normal handlers merge
// it again; for a Notetaker whose archive is complete (and not pruned by
// retention), Redeliver queues its CRM/ATS delivery again. Every handler is idempotent (a task
// may run twice, so each converges on what is already done): a replay creates no second file, CRM record, ATS record or alert. An unknown
// envelope id is store.ErrNotFound.
//
// Without a daemon the tasks wait in the store for the next start.
func (s *Service) Replay(ctx context.Context, req ReplayRequest) (*ReplayResult, error) {
	if (req.ID == "") == req.Since.IsZero() {
		return nil, apperr.Errorf(apperr.EINVALID, "replay needs an id or a since time, not both")
	}
	var seqs []uint64
	if req.ID != "" {
		seq, err := s.DB.NotificationSeq(req.ID)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		seqs = append(seqs, seq)
	} else {
		err := s.Events(ctx, EventFilter{Since: req.Since}, func(e Event) error {
			seqs = append(seqs, e.Seq)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
	}
	res := &ReplayResult{}
	notetakers := map[string]bool{}
	for _, seq := range seqs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n, err := s.DB.Notification(seq)
		if errors.Is(err, store.ErrNotFound) {
			continue // pruned meanwhile
		} else if err != nil {
			return res, fmt.Errorf("replay: %w", err)
		}
		refs, _ := route(n)
		if len(refs) == 0 {
			res.Skipped++
			continue
		}
		if err := s.DB.Requeue(seq, refs); err != nil {
			return res, fmt.Errorf("replay: %w", err)
		}
		res.Notifications++
		for _, r := range refs {
			if r.Kind == store.TaskNotetaker {
				notetakers[r.Subject] = true
			}
		}
	}
	if s.Redeliver == nil {
		return res, nil
	}
	for id := range notetakers {
		nt, err := s.DB.Notetaker(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return res, fmt.Errorf("replay: %w", err)
		}
		if !nt.ArchiveDone || !nt.PrunedAt.IsZero() {
			// Not archived yet: the archive task delivers once it completes.
			// Pruned by retention: a delivery now would send the CRM/ATS a
			// meeting without its files.
			continue
		}
		if err := s.Redeliver(ctx, nt); err != nil {
			return res, fmt.Errorf("replay: redeliver %s: %w", id, err)
		}
		res.Deliveries++
	}
	return res, nil
}
