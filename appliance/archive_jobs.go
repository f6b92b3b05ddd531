// The archive's own jobs: refresh_media (fresh links before they die) and
// archive_sweep (re-queue unfinished archives, warn before Nylas deletes).

package appliance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/notekeeper/notekeeper/store"
)

// requeue queues nt's archive again unless its task is dead-lettered: a
// dead letter waits for the operator (or for new information from Nylas),
// so a job does not retry and re-alert it every hour.
func (a *Archiver) requeue(nt *store.Notetaker) error {
	ref := store.TaskRef{Kind: store.TaskArchive, Subject: nt.ID}
	if t, err := a.DB.Task(ref.Key()); err == nil && t.Dead {
		return nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return a.DB.Enqueue(ref)
}

// pending lists the Notetakers with media to archive that is not archived,
// soonest deadline first. It reads the store's index of pending archives,
// not every Notetaker.
func (a *Archiver) pending() ([]*store.Notetaker, error) {
	all, err := a.DB.PendingArchives(time.Time{})
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
			if err := a.alert(store.AlertArchiveAtRisk, nt.ID, msg); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if _, err := a.Backfill(ctx, backfillPerRun); err != nil {
		errs = append(errs, fmt.Errorf("backfill: %w", err))
	}
	return errors.Join(errs...)
}
