package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/store"
)

// reconcileOverlap is how far back from the last successful reconciliation
// the next one looks again (by join time): a meeting that started before
// the last run may only have finished processing after it.
const reconcileOverlap = 48 * time.Hour

// Reconcile is the reconcile job: for each configured grant it lists the
// Notetakers Nylas has (all pages, by join time since the last successful
// run minus an overlap) and queues the archive of any whose media is
// available but unknown here or not fully archived. This is what saves a
// meeting whose webhook never arrived.
func (a *Archiver) Reconcile(ctx context.Context) error {
	var errs []error
	for _, grant := range a.Grants {
		if err := a.reconcileGrant(ctx, grant); err != nil {
			errs = append(errs, fmt.Errorf("reconcile grant %s: %w", grant, err))
		}
	}
	return errors.Join(errs...)
}

func (a *Archiver) reconcileGrant(ctx context.Context, grant string) error {
	started := a.Now()
	var since time.Time
	if err := a.DB.GetState(store.StateReconcilePrefix+grant, &since); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	q := nylas.ListQuery{Limit: 200}
	if !since.IsZero() {
		q.JoinTimeStart = since.Add(-reconcileOverlap).Unix()
	}
	found := 0
	err := a.Nylas.EachNotetaker(ctx, grant, q, func(n *nylas.Notetaker) error {
		if nylas.MediaStatus(n.CurrentState()) != "available" {
			return nil
		}
		known, err := a.DB.Notetaker(n.ID)
		if err == nil && known.ArchiveDone {
			return nil
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		found++
		nt, err := a.DB.UpdateNotetaker(n.ID, func(nt *store.Notetaker) error {
			fill(&nt.GrantID, grant)
			fill(&nt.MeetingProvider, n.MeetingProvider)
			fill(&nt.MeetingLink, n.MeetingLink)
			fill(&nt.Event.EventID, n.Event.EventID)
			fill(&nt.Event.ICalUID, n.Event.ICalUID)
			fill(&nt.Event.MasterEventID, n.Event.MasterEventID)
			fill(&nt.Event.CalendarID, n.CalendarID)
			if nt.MediaStatus == "" || nt.MediaStatus == "processing" {
				nt.MediaStatus = "available"
			}
			if nt.AvailableAt.IsZero() {
				nt.AvailableAt = a.Now()
			}
			return nil
		})
		if err != nil {
			return err
		}
		return a.Schedule(ctx, nt)
	})
	if err != nil {
		return err
	}
	if found > 0 {
		a.Logger.Info("reconciliation queued meetings", slog.String("grant", grant), slog.Int("meetings", found))
	}
	return a.DB.PutState(store.StateReconcilePrefix+grant, started)
}
