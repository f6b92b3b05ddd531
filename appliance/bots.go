package appliance

import (
	"fmt"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/store"
)

// RecordBot records a Notetaker that `notekeeper bot join` created, as its
// notetaker.created notification would: grant, meeting link and provider,
// join time, and its state when no notification has set one yet (a state
// from a notification is newer and wins). From then on it is a meeting like
// any other: its media notification archives it, and the reconcile job
// finds it through the grant's list when that notification is missed. It
// is safe to call again (a join that found its bot already sent).
//
// Errors: a Notetaker ID that is not a safe path segment (it could never be
// archived); the store's errors.
func RecordBot(db *store.DB, n *nylas.Notetaker) (*store.Notetaker, error) {
	if !archive.SafeID(n.ID) {
		return nil, fmt.Errorf("record bot: notetaker id %q is not a safe path segment", n.ID)
	}
	return db.UpdateNotetaker(n.ID, func(nt *store.Notetaker) error {
		fill(&nt.GrantID, n.GrantID)
		fill(&nt.MeetingLink, n.MeetingLink)
		fill(&nt.MeetingProvider, n.MeetingProvider)
		fill(&nt.Event.EventID, n.Event.EventID)
		fill(&nt.Event.CalendarID, n.CalendarID)
		if nt.JoinTime.IsZero() && n.JoinTime > 0 {
			nt.JoinTime = time.Unix(n.JoinTime, 0).UTC()
		}
		if nt.StateAt == 0 {
			fill(&nt.State, n.CurrentState())
		}
		return nil
	})
}
