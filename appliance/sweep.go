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

// requeue queues nt's archive again unless its task is dead-lettered: a
// dead letter waits for the operator (or for new information from Nylas),
// so a job does not retry and re-alert it every hour.
func (a *Archiver) requeue(nt *store.Notetaker) error {
	ref := store.TaskRef{Kind: TaskArchive, Subject: nt.ID}
	if t, err := a.DB.Task(ref.Key()); err == nil && t.Dead {
		return nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return a.DB.Enqueue(ref)
}

// pending lists the Notetakers with media to archive that is not archived.
func (a *Archiver) pending() ([]*store.Notetaker, error) {
	all, err := a.DB.Notetakers()
	if err != nil {
		return nil, err
	}
	var out []*store.Notetaker
	for _, nt := range all {
		if archivePending(nt) {
			out = append(out, nt)
		}
	}
	return out, nil
}

// archivePending: the Notetaker's media was offered (or failed and is being
// asked for again) and is not fully archived, and its ID is usable.
func archivePending(nt *store.Notetaker) bool {
	return !nt.ArchiveDone && (nt.MediaStatus == "available" || nt.MediaStatus == "error") && nt.ArchiveError != unsafeIDError
}

// atRisk: archive pending and Nylas deletes the media within window of now
// (or already did).
func atRisk(nt *store.Notetaker, now time.Time, window time.Duration) bool {
	return archivePending(nt) && deadline(nt).Sub(now) < window
}

// RefreshMedia is the refresh_media job: for each Notetaker with pending
// downloads whose links are old, it asks the media endpoint for fresh links
// and queues the archive task, so a download never starts on a dead link.
func (a *Archiver) RefreshMedia(ctx context.Context) error {
	nts, err := a.pending()
	if err != nil {
		return err
	}
	var errs []error
	for _, nt := range nts {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if a.Now().Sub(nt.Media.FetchedAt) > linkMaxAge {
			run := &archiveRun{a: a, nt: nt}
			if err := run.refresh(ctx); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", nt.ID, err))
				continue
			}
		}
		if err := a.requeue(nt); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Sweep is the archive_sweep job: every Notetaker with available media not
// fully archived is queued again (unless its task is dead-lettered), and one
// inside AtRisk of its deadline raises archive.at_risk. Then a bounded
// Backfill settles the metadata of meetings archived without it.
func (a *Archiver) Sweep(ctx context.Context) error {
	nts, err := a.pending()
	if err != nil {
		return err
	}
	now := a.Now()
	var errs []error
	for _, nt := range nts {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := a.requeue(nt); err != nil {
			errs = append(errs, err)
		}
		if atRisk(nt, now, a.AtRisk) {
			d := deadline(nt)
			left := d.Sub(now)
			msg := fmt.Sprintf("not fully archived (missing %v) and Nylas deletes the media at %s (in %s)",
				a.missingKinds(nt), d.UTC().Format(time.RFC3339), left.Round(time.Minute))
			if err := a.alert("archive.at_risk", nt.ID, msg); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if _, err := a.Backfill(ctx, backfillPerRun); err != nil {
		errs = append(errs, fmt.Errorf("backfill: %w", err))
	}
	return errors.Join(errs...)
}

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
		if MediaStatus(n.CurrentState()) != "available" {
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

// WebhookWatchdog is the webhook_watchdog job: when this appliance's
// webhook destination is known, it reads its status and raises
// webhook.unhealthy when Nylas marks it failing or failed (Nylas stops
// delivering to a failed destination and never reactivates it by itself).
func (a *Archiver) WebhookWatchdog(ctx context.Context) error {
	if a.DestinationID == nil {
		return nil
	}
	id, err := a.DestinationID()
	if err != nil || id == "" {
		return err
	}
	wh, err := a.Nylas.GetWebhook(ctx, id)
	if err != nil {
		return fmt.Errorf("webhook watchdog: %w", err)
	}
	ws := WebhookStatus{ID: id, Status: wh.Status, CheckedAt: a.Now().UTC()}
	if err := a.DB.PutState(StateWebhook, ws); err != nil {
		return fmt.Errorf("webhook watchdog: %w", err)
	}
	switch wh.Status {
	case "failing", "failed":
		return a.alert("webhook.unhealthy", id, fmt.Sprintf("the Nylas webhook destination is %s: notifications are not being delivered; "+
			"reactivate it (PUT /v3/webhooks/%s {\"status\":\"active\"}) once notekeeper is reachable", wh.Status, id))
	}
	return nil
}
