package ops

import (
	"context"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/envelope"
	"github.com/notekeeper/notekeeper/store"
)

// Event is one stored notification as the operator sees it: `notekeeper
// events -json` prints one per line.
type Event struct {
	Seq        uint64    `json:"seq"`
	ID         string    `json:"id"` // envelope id
	Type       string    `json:"type"`
	ReceivedAt time.Time `json:"received_at"`
	// Subject is the Notetaker, booking or grant the notification is about
	// ("" for a type notekeeper does not process).
	Subject string `json:"subject,omitempty"`
	// Error is the processing problem recorded at ingest, if any.
	Error string `json:"error,omitempty"`
}

// EventFilter selects notifications. Zero fields select everything.
type EventFilter struct {
	Since time.Time // received at or after
	// Type matches the type as sent, its base type (suffixes stripped) or a
	// prefix ending at a dot: "notetaker" matches "notetaker.media".
	Type string
}

func (f EventFilter) match(n *store.Notification) bool {
	if n.ReceivedAt.Before(f.Since) {
		return false
	}
	if f.Type == "" {
		return true
	}
	t := strings.TrimSuffix(f.Type, ".")
	return n.Type == t || envelope.BaseType(n.Type) == t || strings.HasPrefix(n.Type, t+".")
}

// eventPage is how many notifications one read transaction reads: fn runs
// between pages, outside any transaction, so a slow reader (a socket) never
// holds one open.
const eventPage = 256

// Events calls fn with every stored notification f selects, oldest first,
// until fn returns an error (returned as is) or ctx ends.
func (s *Service) Events(ctx context.Context, f EventFilter, fn func(Event) error) error {
	var after uint64
	for {
		var page []*store.Notification
		err := s.DB.Notifications(after, eventPage, func(n *store.Notification) bool {
			page = append(page, n)
			return true
		})
		if err != nil {
			return err
		}
		for _, n := range page {
			after = n.Seq
			if !f.match(n) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(eventOf(n)); err != nil {
				return err
			}
		}
		if len(page) < eventPage {
			return nil
		}
	}
}

// eventOf describes n; its subject comes from the same routing ingest uses.
func eventOf(n *store.Notification) Event {
	e := Event{Seq: n.Seq, ID: n.ID, Type: n.Type, ReceivedAt: n.ReceivedAt, Error: n.Error}
	if refs, _ := route(n); len(refs) > 0 {
		e.Subject = refs[0].Subject
	}
	return e
}

// route re-derives the tasks a stored notification implies (envelope.Route,
// as at ingest). A body that no longer parses implies none.
func route(n *store.Notification) ([]store.TaskRef, string) {
	env, err := envelope.Parse(n.Body)
	if err != nil {
		return nil, err.Error()
	}
	return envelope.Route(env)
}
