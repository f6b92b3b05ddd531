package ops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/store"
)

// RetentionPolicy is what the retention job keeps. A zero field keeps
// forever.
type RetentionPolicy struct {
	// MediaKeepDays is [archive] keep_days: local copies of a meeting's files
	// are removed this many days after they were archived (see pruneReason
	// for every condition).
	MediaKeepDays int
	// NotificationKeepDays is [store] keep_days: stored notification bodies
	// and their dedupe keys are deleted this many days after they arrived,
	// unless a task still refers to them.
	NotificationKeepDays int
}

// RetentionResult says what one retention run removed.
type RetentionResult struct {
	MeetingsPruned       []string `json:"meetings_pruned,omitempty"`
	FilesRemoved         int      `json:"files_removed"`
	NotificationsDeleted int      `json:"notifications_deleted"`
}

// deliveryKinds are the task kinds that read a meeting's archived files.
var deliveryKinds = []store.TaskKind{store.TaskArchive, store.TaskCRM, store.TaskATSRecording}

// Retention applies p once: it prunes the local files of every meeting
// pruneReason allows (deleting them, keeping manifest.json, then setting
// the Notetaker's PrunedAt) and deletes old notifications
// (store.DB.PruneNotifications). A meeting that fails to prune does not stop
// the others; the errors are returned joined.
func (s *Service) Retention(ctx context.Context, p RetentionPolicy) (*RetentionResult, error) {
	res := &RetentionResult{}
	now := s.now()
	var errs []error
	if p.MediaKeepDays > 0 {
		busy, err := s.busySubjects()
		if err != nil {
			return res, err
		}
		// Only archived, unpruned meetings whose deadline has passed and
		// whose files are not newer than now can pass pruneReason: the
		// store's index lists those (keep_days is checked below).
		nts, err := s.DB.ArchivedBefore(now.Add(time.Nanosecond))
		if err != nil {
			return res, err
		}
		for _, nt := range nts {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			if pruneReason(nt, now, p.MediaKeepDays, busy[nt.ID]) != "" {
				continue
			}
			n, err := s.pruneMeeting(nt.ID, now)
			res.FilesRemoved += n
			if err != nil {
				errs = append(errs, err)
				continue
			}
			res.MeetingsPruned = append(res.MeetingsPruned, nt.ID)
		}
	}
	if p.NotificationKeepDays > 0 {
		n, err := s.DB.PruneNotifications(now.AddDate(0, 0, -p.NotificationKeepDays))
		res.NotificationsDeleted = n
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// RetentionJob returns the `[jobs] retention` job for p.
func (s *Service) RetentionJob(p RetentionPolicy) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := s.Retention(ctx, p)
		return err
	}
}

// busySubjects returns the Notetaker IDs that a task of a delivery kind
// (archive, CRM, ATS recording) still names, live or dead-lettered: a
// failed delivery can be retried and then reads the files again.
func (s *Service) busySubjects() (map[string]bool, error) {
	tasks, err := s.DB.Tasks()
	if err != nil {
		return nil, err
	}
	busy := map[string]bool{}
	for _, t := range tasks {
		for _, k := range deliveryKinds {
			if t.Kind == k {
				busy[t.Subject] = true
			}
		}
	}
	return busy, nil
}

// pruneReason says why a meeting's local files must be kept now, or "" when
// they may be removed: only once the archive is complete, every file was
// archived more than keepDays ago, Nylas' own deadline (DeletesAt) has
// passed (until then the media could be fetched again, and notekeeper is
// the safer copy), no delivery still needs the files, and no legal hold is
// set.
func pruneReason(nt *store.Notetaker, now time.Time, keepDays int, busy bool) string {
	cutoff := now.AddDate(0, 0, -keepDays)
	switch {
	case keepDays <= 0:
		return "kept forever"
	case !nt.PrunedAt.IsZero():
		return "already pruned"
	case nt.Hold:
		return "legal hold"
	case !nt.ArchiveDone || len(nt.Archived) == 0:
		return "archive not complete"
	case nt.DeletesAt.IsZero() || now.Before(nt.DeletesAt):
		return "Nylas' deadline has not passed"
	case busy:
		return "a delivery still needs the files"
	case !archive.SafeID(nt.ID):
		return "unsafe id"
	}
	for _, f := range nt.Archived {
		if f.ArchivedAt.IsZero() || f.ArchivedAt.After(cutoff) {
			return "archived too recently"
		}
	}
	return ""
}

// pruneMeeting removes every file of one meeting's folder except
// manifest.json, then records PrunedAt. Files go first: a crash in between
// leaves files missing without PrunedAt, which the next run completes (and
// verify reports until then), never PrunedAt over files still there.
func (s *Service) pruneMeeting(id string, now time.Time) (int, error) {
	dir, err := archive.MediaDir(s.DataDir, id)
	if err != nil {
		return 0, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("prune %s: %w", id, err)
	}
	n := 0
	for _, e := range entries {
		if e.Name() == archive.ManifestName || !e.Type().IsRegular() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return n, fmt.Errorf("prune %s: %w", id, err)
		}
		n++
	}
	if _, err := s.DB.UpdateNotetaker(id, func(nt *store.Notetaker) error { nt.PrunedAt = now; return nil }); err != nil {
		return n, fmt.Errorf("prune %s: %w", id, err)
	}
	s.indexUpdate(id) // the texts are gone: only the manifest's title and people stay searchable
	return n, nil
}
