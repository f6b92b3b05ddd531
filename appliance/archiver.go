package appliance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/store"
)

const (
	// linkMaxAge: media links die 60 minutes after they are minted; older
	// than this they are refreshed before use rather than tried.
	linkMaxAge = 50 * time.Minute
)

// Archiver keeps each Notetaker's media on local disk, under
// {DataDir}/media/{notetaker_id}/, before Nylas deletes it (14 days by default). Its
// task handler downloads what is missing; its jobs refresh links, sweep for
// unfinished archives, reconcile with the API and watch the webhook
// destination. Set the fields, then Register it on a Pool.
type Archiver struct {
	DB           *store.DB
	Nylas        *nylas.Client
	Fetcher      *archive.Fetcher
	DataDir      string
	Kinds        []string // [archive] kinds
	Concurrency  int      // downloads at once, across all tasks
	MinFreeBytes int64
	DiskFree     func(path string) (uint64, error)
	AtRisk       time.Duration // alert this long before the deadline
	Grants       []string      // reconciled against the API
	// DestinationID returns this appliance's webhook destination ID ("" when
	// none is known) for the webhook_watchdog job.
	DestinationID func() (string, error)
	Logger        *slog.Logger
	Now           func() time.Time
	Metrics       *Metrics // optional: downloads
	// DiskRecheck is how long an archive task waits while the disk is low;
	// default 5 minutes.
	DiskRecheck time.Duration
	// OnArchived, when set, is called once a Notetaker's archive is complete
	// (again on a replay: it must be idempotent). The CRM uses it.
	OnArchived func(ctx context.Context, nt *store.Notetaker) error
	// Index, when set, is the search index: a meeting is (re-)indexed once
	// its archive is complete and its metadata settled (meeting_info.go).
	Index MeetingIndex
	// Target, when set ([archive] target = "s3"), receives every file once
	// it is downloaded and checked in the local folder, which is then only
	// a spool (see upload). nil: the local folder is the archive.
	Target archive.Target
	// UploadRecheck is how long an archive task waits while the Target is
	// unreachable; default 5 minutes.
	UploadRecheck time.Duration

	sem chan struct{}
}

// prepare readies the Archiver to run tasks (the pipeline calls it).
func (a *Archiver) prepare() {
	a.sem = make(chan struct{}, max(1, a.Concurrency))
}

// Schedule is the Records hook for a changed Notetaker: it queues the
// archive task when media is available and not all archived, raises
// notetaker.media_error for a media error (the task then asks the media
// endpoint again), raises archive.failed when media was deleted before it
// was archived (and lets a waiting archive task finish at once), and refuses IDs that are not safe path segments. It is
// idempotent.
func (a *Archiver) Schedule(_ context.Context, nt *store.Notetaker) error {
	if nt.ArchiveDone {
		return nil
	}
	switch nt.MediaStatus {
	case "available", "error":
		if !archive.SafeID(nt.ID) {
			return a.refuseID(nt.ID)
		}
		if nt.MediaStatus == "error" {
			if err := a.alert(store.AlertMediaError, nt.ID, "Nylas reported a media error for this meeting; notekeeper will ask for the media again"); err != nil {
				return err
			}
		}
		return a.DB.Enqueue(store.TaskRef{Kind: store.TaskArchive, Subject: nt.ID})
	case "deleted":
		// An archive task still waiting (a low disk postpones it for
		// DiskRecheck, a failure backs it off) runs now and finishes: there
		// is nothing left to fetch.
		ref := store.TaskRef{Kind: store.TaskArchive, Subject: nt.ID}
		if _, err := a.DB.Task(ref.Key()); err == nil {
			if err := a.DB.Enqueue(ref); err != nil {
				return err
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if len(nt.Media.URLs) > 0 || !nt.AvailableAt.IsZero() {
			return a.alert(store.AlertArchiveFailed, nt.ID, "Nylas deleted the media before all of it was archived; missing: "+
				fmt.Sprint(a.missingKinds(nt)))
		}
	}
	return nil
}

// unsafeIDError is the ArchiveError of a Notetaker whose ID is refused.
const unsafeIDError = "Notetaker ID is not a safe path segment; nothing archived"

// refuseID records that a Notetaker ID cannot be archived.
func (a *Archiver) refuseID(id string) error {
	a.Logger.Error("archive refused", slog.String("notetaker", id))
	if _, err := a.DB.UpdateNotetaker(id, func(nt *store.Notetaker) error { nt.ArchiveError = unsafeIDError; return nil }); err != nil {
		return err
	}
	return a.alert(store.AlertArchiveFailed, id, fmt.Sprintf("%s: %q", unsafeIDError, id))
}

func (a *Archiver) alert(kind store.AlertKind, subject, msg string) error {
	raised, err := a.DB.RaiseAlert(store.Alert{Kind: kind, Subject: subject, Message: msg})
	if raised {
		a.Logger.Warn("alert", slog.String("kind", string(kind)), slog.String("subject", subject), slog.String("message", msg))
	}
	return err
}

// wanted returns the kinds to archive that the links offer.
func (a *Archiver) wanted(links store.MediaLinks) []string {
	var out []string
	for _, k := range a.Kinds {
		if links.URLs[k] != "" {
			out = append(out, k)
		}
	}
	return out
}

// missingKinds lists configured kinds not archived yet.
func (a *Archiver) missingKinds(nt *store.Notetaker) []string {
	var out []string
	for _, k := range a.Kinds {
		if _, ok := nt.Archived[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// deadline is when Nylas deletes nt's media: retained_until or the media
// endpoint's expires_at when known, else 14 days after it became available.
func deadline(nt *store.Notetaker) time.Time { return nt.Deadline() }

// checkDisk fails while the data dir's file system is below MinFreeBytes.
func (a *Archiver) checkDisk() error {
	free, err := a.DiskFree(a.DataDir)
	if err != nil {
		return err
	}
	if int64(free) < a.MinFreeBytes {
		return fmt.Errorf("%s free on %s, below min_free_bytes (%s): downloads paused", datadir.FormatBytes(int64(free)), a.DataDir, datadir.FormatBytes(a.MinFreeBytes))
	}
	return nil
}

// handleArchive downloads every wanted kind of one Notetaker's media that is
// not archived yet. Files already in the manifest (and on disk at their
// size) are never fetched again. Expired links are refreshed from the media
// endpoint once per run. A low disk postpones the task without spending an
// attempt.
func (a *Archiver) handleArchive(ctx context.Context, t *store.Task) error {
	id := t.Subject
	nt, err := a.DB.Notetaker(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !nt.ArchiveDone && nt.MediaStatus == "deleted") {
		return nil // nothing (more) to fetch; a deletion was alerted by Schedule
	} else if err != nil {
		return err
	}
	if nt.ArchiveDone {
		// Schedule queues no archive task for a complete archive: this one's
		// run committed it and died (or failed) before routing it on.
		return a.finishArchive(ctx, nt)
	}
	if !archive.SafeID(id) {
		return a.refuseID(id)
	}
	if err := a.checkDisk(); err != nil {
		if aerr := a.alert(store.AlertDiskLow, a.DataDir, err.Error()); aerr != nil {
			return aerr
		}
		return apperr.Later(cmp.Or(a.DiskRecheck, 5*time.Minute), err.Error())
	}
	dir, err := archive.MediaDir(a.DataDir, id)
	if err != nil {
		return apperr.Permanent(err)
	}
	man, err := archive.ReadManifest(dir)
	if errors.Is(err, archive.ErrNoManifest) {
		man = &archive.Manifest{Files: map[string]archive.FileEntry{}}
	} else if err != nil {
		return err
	}
	man.NotetakerID, man.GrantID, man.EventID = id, nt.GrantID, nt.Event.EventID

	run := &archiveRun{a: a, nt: nt, dir: dir, man: man}
	if nt.MediaStatus == "error" || len(nt.Media.URLs) == 0 || a.Now().Sub(nt.Media.FetchedAt) > linkMaxAge {
		if err := run.refresh(ctx); err != nil {
			return err
		}
	}
	return run.download(ctx)
}
