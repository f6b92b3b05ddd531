package appliance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/archive"
)

// upload copies kind's downloaded, checked file from the spool folder to
// the Target and records the verified object in the manifest (local and in
// the bucket). Only then, and only for files nothing reads locally
// (archive.KeepLocal: recordings and thumbnails), is the local copy
// removed. A failure leaves the file in the spool for the next run.
func (r *archiveRun) upload(ctx context.Context, kind string) error {
	name, e, ok := r.entryOf(kind)
	if !ok || e.Object != "" {
		return nil
	}
	key := r.a.Target.Key(r.nt.ID, name)
	path := filepath.Join(r.dir, name)
	if err := r.a.Target.Check(ctx, key, e, false); err == nil {
		// Uploaded and verified before a crash lost the manifest update.
	} else if !errors.Is(err, archive.ErrObjectMissing) && !errors.Is(err, archive.ErrChecksum) {
		return fmt.Errorf("%s: %w", kind, err)
	} else if err := r.a.Target.Upload(ctx, key, path, e); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	} else {
		r.a.Logger.Info("uploaded", slog.String("notetaker", r.nt.ID), slog.String("object", key), slog.Int64("bytes", e.Bytes))
	}
	r.mu.Lock()
	e.Object = key
	r.man.Files[name] = e
	err := archive.WriteManifest(r.dir, r.man)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if !archive.KeepLocal(name) {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove spooled %s: %w", name, err)
		}
	}
	return nil
}

// putManifest writes the manifest beside the objects.
func (r *archiveRun) putManifest(ctx context.Context) error {
	r.mu.Lock()
	m := *r.man
	r.mu.Unlock()
	return r.a.Target.PutManifest(ctx, r.nt.ID, &m)
}

// uploadLater turns "the bucket is unreachable" into a postponement that
// spends no attempt: the files wait in the spool, nothing is lost, and the
// task comes back after UploadRecheck. Other errors are returned as they
// are (retried with back-off; wrong credentials end in a dead letter and an
// alert naming them).
func (a *Archiver) uploadLater(err error) error {
	if errors.Is(err, archive.ErrUnreachable) && !errors.Is(err, context.Canceled) {
		return apperr.Later(cmp.Or(a.UploadRecheck, 5*time.Minute), err.Error())
	}
	return err
}
