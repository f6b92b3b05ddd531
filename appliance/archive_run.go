package appliance

// One archive task's run: refresh the media links, download what is
// missing (concurrently, bounded), record each file in the manifest and
// the store.

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
