// Package ops is the operator surface of a notekeeper data dir: status,
// notifications, tasks, retry, replay, verify, backup and restore, legal
// hold and retention.
//
// Service implements each operation once, over a *store.DB. The daemon
// serves it on a unix socket in the data dir (Server, socket.go); the
// `notekeeper` operator commands talk to that socket (Client) or, when no
// daemon runs, use a Service over a store they open themselves; the admin UI
// calls the Service directly. Service and Client both satisfy Operator.
package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/appliance/status"
	"github.com/notekeeper/notekeeper/store"
)

// Operator is what the operator commands can do, whether through the
// daemon's socket (Client) or on a store opened by the command (Service).
// Methods that name something unknown (a task key, a notification, a
// Notetaker) return an error for which errors.Is(err, store.ErrNotFound)
// holds.
type Operator interface {
	Status(ctx context.Context) (*status.Status, error)
	Events(ctx context.Context, f EventFilter, fn func(Event) error) error
	Tasks(ctx context.Context, failedOnly bool) ([]*store.Task, error)
	Retry(ctx context.Context, key string) error
	RetryAllFailed(ctx context.Context) (int, error)
	Replay(ctx context.Context, req ReplayRequest) (*ReplayResult, error)
	Verify(ctx context.Context) (*VerifyReport, error)
	Backup(ctx context.Context, w io.Writer) error
	Hold(ctx context.Context, notetakerID string, on bool) error
	RecordBot(ctx context.Context, bot store.Notetaker) error
}

var (
	_ Operator = (*Service)(nil)
	_ Operator = (*Client)(nil)
)

// Service implements the operations over one store and data dir. Set the
// fields, then call the methods; they are safe for concurrent use.
type Service struct {
	DB      *store.DB
	DataDir string
	Version string
	// DaemonStatus, when set, is the running daemon's full status; nil when no
	// daemon runs: Status then reports what the store knows (Daemon false).
	DaemonStatus func(ctx context.Context) (*status.Status, error)
	// Redeliver, when set, queues the CRM or ATS delivery of an archived
	// meeting (the archiver's OnArchived hook). Replay calls it for every
	// archived Notetaker it replays, so a replay reruns delivery too; the
	// delivery handlers upsert, so nothing is duplicated.
	Redeliver func(ctx context.Context, nt *store.Notetaker) error
	// StateFiles are the names of files directly in DataDir that a backup
	// holds besides the database and certmagic/ (see datadir.StateFiles).
	StateFiles []string
	// Target, when set, is the [archive.s3] bucket: Verify checks the
	// objects manifests name there.
	Target archive.Target
	// Index, when set, is the search index (search.go): Search and Reindex
	// use it, and retention tells it when it prunes a meeting.
	Index *search.Index
	// Backfill, when set, settles the title, times and participants of
	// archived meetings that lack them (the archiver's Backfill); Reindex
	// runs it with no limit first.
	Backfill func(ctx context.Context, limit int) (int, error)
	// Logger is for what goes wrong beside an operation (an index update);
	// nil: silent.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Status returns the daemon's status, or without a daemon the store's
// view: counts, the last webhook destination status, disk free.
func (s *Service) Status(ctx context.Context) (*status.Status, error) {
	if s.DaemonStatus != nil {
		return s.DaemonStatus(ctx)
	}
	st := &status.Status{Version: s.Version, DataDir: s.DataDir}
	var err error
	if st.Counts, err = s.DB.Counts(); err != nil {
		return nil, err
	}
	if st.Webhook, err = s.DB.WebhookStatus(); err != nil {
		return nil, err
	}
	if free, err := datadir.DiskFree(s.DataDir); err == nil {
		st.DiskFreeBytes = int64(free)
	}
	return st, nil
}

// Tasks returns every task in key order, or only the dead-lettered ones.
func (s *Service) Tasks(_ context.Context, failedOnly bool) ([]*store.Task, error) {
	tasks, err := s.DB.Tasks()
	if err != nil || !failedOnly {
		return tasks, err
	}
	out := tasks[:0]
	for _, t := range tasks {
		if t.Dead {
			out = append(out, t)
		}
	}
	return out, nil
}

// Retry makes the task with key runnable now with a fresh attempt count
// (store.DB.Retry).
func (s *Service) Retry(_ context.Context, key string) error {
	return s.DB.Retry(key)
}

// RetryAllFailed retries every dead-lettered task and returns how many.
func (s *Service) RetryAllFailed(ctx context.Context) (int, error) {
	dead, err := s.Tasks(ctx, true)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range dead {
		if err := s.DB.Retry(t.Key()); errors.Is(err, store.ErrNotFound) {
			continue // completed or removed meanwhile
		} else if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// RecordBot records a Notetaker `notekeeper bot join` created, so that it
// is archived like any other (store.DB.RecordBot). An ID that is not a safe
// path segment could never be archived and is refused.
func (s *Service) RecordBot(_ context.Context, bot store.Notetaker) error {
	if !archive.SafeID(bot.ID) {
		return apperr.Errorf(apperr.EINVALID, "record bot: notetaker id %q is not a safe path segment", bot.ID)
	}
	_, err := s.DB.RecordBot(bot)
	return err
}

// Hold sets (on) or releases the legal hold of a known Notetaker: while it
// is set, retention never removes the meeting's files. An unknown or unsafe
// ID is store.ErrNotFound.
func (s *Service) Hold(_ context.Context, notetakerID string, on bool) error {
	if !archive.SafeID(notetakerID) {
		return fmt.Errorf("hold %q: %w", notetakerID, store.ErrNotFound)
	}
	if _, err := s.DB.Notetaker(notetakerID); err != nil {
		return fmt.Errorf("hold: %w", err)
	}
	_, err := s.DB.UpdateNotetaker(notetakerID, func(nt *store.Notetaker) error { nt.Hold = on; return nil })
	return err
}
