package appliance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

// archiveRun is the state of one handleArchive call.
type archiveRun struct {
	a   *Archiver
	nt  *store.Notetaker
	dir string

	mu        sync.Mutex // guards what follows
	man       *archive.Manifest
	refreshed bool
	refreshEr error
}

// refresh replaces the links with fresh ones from the media endpoint, at
// most once per run, and records them (and the deadline it gives).
func (r *archiveRun) refresh(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refreshed {
		return r.refreshEr
	}
	r.refreshed = true
	m, err := r.a.Nylas.GetMedia(ctx, r.nt.GrantID, r.nt.ID)
	if err != nil {
		r.refreshEr = fmt.Errorf("refresh media links: %w", err)
		return r.refreshEr
	}
	nt, err := r.a.DB.UpdateNotetaker(r.nt.ID, func(nt *store.Notetaker) error {
		applyMediaEndpoint(nt, m, r.a.Now())
		return nil
	})
	if err != nil {
		r.refreshEr = err
		return err
	}
	r.nt = nt
	return nil
}

// applyMediaEndpoint records fresh links from GET …/media in nt.
func applyMediaEndpoint(nt *store.Notetaker, m *nylas.Media, now time.Time) {
	links := store.MediaLinks{URLs: map[string]string{}, Sizes: map[string]int64{}, Types: map[string]string{},
		Format: nt.Media.Format, FetchedAt: now, Source: "api"}
	var expires int64
	for _, kind := range archive.Kinds {
		f := m.File(kind)
		if f == nil || f.URL == "" {
			continue
		}
		links.URLs[kind], links.Sizes[kind], links.Types[kind] = f.URL, f.Size, f.Type
		if f.ExpiresAt > 0 && (expires == 0 || f.ExpiresAt < expires) {
			expires = f.ExpiresAt
		}
	}
	nt.Media = links
	if len(links.URLs) > 0 {
		nt.MediaStatus = "available"
		if nt.AvailableAt.IsZero() {
			nt.AvailableAt = now
		}
	}
	if nt.RetainedUntil.IsZero() && expires > 0 {
		nt.DeletesAt = time.Unix(expires, 0).UTC()
	}
}

// download fetches the missing kinds, at most Concurrency at once across
// the whole archiver, then records the outcome.
func (r *archiveRun) download(ctx context.Context) error {
	wanted := r.a.wanted(r.nt.Media)
	var (
		wg   sync.WaitGroup
		errs = make([]error, len(wanted))
	)
	for i, kind := range wanted {
		if r.archived(kind) {
			continue
		}
		wg.Go(func() {
			select {
			case r.a.sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-r.a.sem }()
			if !r.downloaded(kind) {
				if errs[i] = r.fetch(ctx, kind); errs[i] != nil {
					return
				}
			}
			if r.a.Target != nil {
				errs[i] = r.upload(ctx, kind)
			}
		})
	}
	wg.Wait()
	err := errors.Join(errs...)
	if r.a.Target != nil && err == nil {
		err = r.putManifest(ctx)
	}

	// Done when every wanted kind offered is archived, or when the media
	// offers only kinds we do not keep. No links at all (media not ready) is
	// not done: the sweep asks again.
	done := len(r.nt.Media.URLs) > 0
	for _, kind := range wanted {
		done = done && r.archived(kind)
	}
	updated, uerr := r.a.DB.UpdateNotetaker(r.nt.ID, func(nt *store.Notetaker) error {
		if nt.Archived == nil {
			nt.Archived = map[string]store.ArchivedFile{}
		}
		for _, kind := range wanted {
			if f, ok := r.fileOf(kind); ok {
				nt.Archived[kind] = f
			}
		}
		if nt.DeletesAt.IsZero() {
			nt.DeletesAt = deadline(nt)
		}
		nt.ArchiveDone = done
		nt.ArchiveError = ""
		if err != nil {
			nt.ArchiveError = err.Error()
		}
		return nil
	})
	if err != nil {
		return r.a.uploadLater(err)
	}
	if uerr != nil {
		return uerr
	}
	if done {
		r.a.Logger.Info("meeting archived", slog.String("notetaker", r.nt.ID), slog.Any("kinds", wanted))
		return r.a.finishArchive(ctx, updated)
	}
	return nil
}

// finishArchive finishes a complete archive: it describes the meeting, indexes
// it and hands it to OnArchived. The archive is committed first, so a run
// that dies here leaves its task to call finishArchive again; all three steps
// are idempotent.
func (a *Archiver) finishArchive(ctx context.Context, nt *store.Notetaker) error {
	nt, err := a.describe(ctx, nt)
	if err != nil {
		return err
	}
	a.index(nt.ID)
	if a.OnArchived != nil {
		return a.OnArchived(ctx, nt)
	}
	return nil
}

// archived reports whether kind is in the manifest and kept where the
// archive lives: on disk at its size, or, with a Target, in the bucket.
func (r *archiveRun) archived(kind string) bool {
	_, ok := r.fileOf(kind)
	return ok
}

// downloaded reports whether kind is in the manifest and either on disk at
// its size or already uploaded: nothing is left to fetch.
func (r *archiveRun) downloaded(kind string) bool {
	_, e, ok := r.entryOf(kind)
	return ok && (e.Object != "" || r.onDisk(kind))
}

// onDisk reports whether kind's manifest file is in the folder at its size.
func (r *archiveRun) onDisk(kind string) bool {
	name, e, ok := r.entryOf(kind)
	if !ok {
		return false
	}
	fi, err := os.Stat(filepath.Join(r.dir, name))
	return err == nil && fi.Size() == e.Bytes
}

// entryOf finds kind's manifest entry.
func (r *archiveRun) entryOf(kind string) (string, archive.FileEntry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, e := range r.man.Files {
		if kindOfFile(name) == kind {
			return name, e, true
		}
	}
	return "", archive.FileEntry{}, false
}

// fileOf finds kind's manifest entry, checked against where the archive
// lives: the disk, or with a Target the recorded (verified) object.
func (r *archiveRun) fileOf(kind string) (store.ArchivedFile, bool) {
	name, e, ok := r.entryOf(kind)
	if !ok {
		return store.ArchivedFile{}, false
	}
	if r.a.Target != nil && e.Object == "" || r.a.Target == nil && e.Object == "" && !r.onDisk(kind) {
		return store.ArchivedFile{}, false
	}
	return store.ArchivedFile{Name: name, Bytes: e.Bytes, SHA256: e.SHA256, ArchivedAt: e.ArchivedAt}, true
}

// busyRecheck is how long an archive task waits when another run is
// fetching the same file.
const busyRecheck = time.Minute

// fetch downloads one kind and records it in the manifest. When storage
// says the link expired, or the link is refused by the media policy, the
// links are refreshed once and the fetch tried again; a refused fresh link
// is a permanent failure. Running out of room above MinFreeBytes (the
// partial is then deleted) and a file another run is fetching postpone the
// task without spending an attempt.
func (r *archiveRun) fetch(ctx context.Context, kind string) error {
	for attempt := 0; ; attempt++ {
		r.mu.Lock()
		links := r.nt.Media
		r.mu.Unlock()
		start := time.Now()
		res, err := r.a.Fetcher.Fetch(ctx, archive.Request{
			URL:    links.URLs[kind],
			Dir:    r.dir,
			Name:   archive.FileName(kind, links.Format, links.Types[kind]),
			Expect: links.Sizes[kind],
			NameFor: func(contentType string) string {
				return archive.FileName(kind, links.Format, contentType)
			},
			Reserve: &archive.Reserve{
				Free: func() (uint64, error) { return r.a.DiskFree(r.a.DataDir) },
				Keep: r.a.MinFreeBytes,
			},
		})
		outcome, n := downloadOutcome(res, err)
		r.a.Metrics.Download(kind, outcome, n, time.Since(start))
		refused := errors.Is(err, archive.ErrNotAllowed)
		if (errors.Is(err, archive.ErrExpired) || refused) && attempt == 0 {
			if rerr := r.refresh(ctx); rerr != nil {
				return fmt.Errorf("%s: %w (and %w)", kind, err, rerr)
			}
			continue
		}
		switch {
		case refused:
			// Fresh links are refused too: retrying cannot help (issue 18 #7).
			return apperr.Permanent(fmt.Errorf("%s: %w", kind, err))
		case errors.Is(err, archive.ErrNoSpace):
			// The partial is gone; wait for room without spending an attempt.
			msg := fmt.Sprintf("%s: %v: downloads paused", kind, err)
			if aerr := r.a.alert("disk.low", r.a.DataDir, msg); aerr != nil {
				return aerr
			}
			return apperr.Later(cmp.Or(r.a.DiskRecheck, 5*time.Minute), msg)
		case errors.Is(err, archive.ErrBusy):
			// Another run is writing this file: not a failed attempt.
			return apperr.Later(busyRecheck, fmt.Sprintf("%s: %v", kind, err))
		case err != nil:
			return fmt.Errorf("%s: %w", kind, err)
		}
		return r.record(kind, res)
	}
}

// downloadOutcome names a Fetch's result for metrics.
func downloadOutcome(res *archive.Result, err error) (string, int64) {
	switch {
	case err == nil:
		return "ok", res.Bytes
	case errors.Is(err, archive.ErrExpired):
		return "expired", 0
	}
	return "failed", 0
}

// record adds a downloaded file to the manifest (written atomically) and,
// for a transcript, renders transcript.txt beside it.
func (r *archiveRun) record(kind string, res *archive.Result) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name := range r.man.Files { // a kind has one file: drop an older name
		if kindOfFile(name) == kind && name != res.Name {
			delete(r.man.Files, name)
		}
	}
	r.man.Files[res.Name] = archive.FileEntry{Bytes: res.Bytes, SHA256: res.SHA256, ContentType: res.ContentType, ArchivedAt: r.a.Now().UTC()}
	r.man.DeletesAt = deadline(r.nt).UTC()
	if err := archive.WriteManifest(r.dir, r.man); err != nil {
		return err
	}
	if kind == "transcript" {
		r.renderTranscript(res.Name)
	}
	return nil
}

// renderTranscript writes transcript.txt; a transcript it cannot render is
// logged, not fatal: the JSON is archived either way.
func (r *archiveRun) renderTranscript(name string) {
	data, err := os.ReadFile(filepath.Join(r.dir, name))
	if err == nil {
		var text string
		if text, err = archive.RenderTranscript(data); err == nil {
			err = datadir.WriteFileAtomic(r.dir, "transcript.txt", []byte(text))
		}
	}
	if err != nil {
		r.a.Logger.Warn("transcript.txt not written", slog.String("notetaker", r.nt.ID), slog.Any("error", err))
	}
}

// kindOfFile maps an archived file name back to its media kind.
func kindOfFile(name string) string {
	base := strings.TrimSuffix(name, filepath.Ext(name))
	if slices.Contains(archive.Kinds, base) {
		return base
	}
	return ""
}
