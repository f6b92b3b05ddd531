// Package jobs runs notekeeper's periodic work (URL refresh, archive sweeps,
// reconciliation, watchdogs, backups) on robfig/cron schedules.
//
// A Scheduler is built with New, given jobs with Add, started with Open and
// stopped with Close. Every job runs behind cron's Recover and
// SkipIfStillRunning wrappers: a panic is logged instead of killing the
// process, and a job whose previous run has not finished is skipped rather than
// stacked. Close waits, up to its context's deadline, for running jobs.
//
// Schedules use the standard five-field cron syntax plus the descriptors
// "@every <duration>", "@hourly", "@daily", "@weekly", "@monthly" and
// "@yearly" (times are in the process's local time zone, UTC under the
// shipped systemd unit).
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// parser is the one spec syntax notekeeper accepts, used both to validate the
// configuration and to schedule jobs, so a spec that passes `check` always runs.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSpec reports whether spec is a valid schedule, returning its parse
// error otherwise.
func ParseSpec(spec string) error {
	if spec == "" {
		return fmt.Errorf("empty schedule")
	}
	_, err := parser.Parse(spec)
	return err
}

// Func is the work of one job. The context is cancelled when the scheduler is
// closing; a job should return promptly then.
type Func func(ctx context.Context) error

// Run records the most recent run of a job, for status pages.
type Run struct {
	Name     string
	Spec     string
	Started  time.Time
	Duration time.Duration
	Err      error
	Next     time.Time
}

// Scheduler runs named jobs on cron schedules. Its methods are safe for
// concurrent use.
type Scheduler struct {
	logger *slog.Logger
	cron   *cron.Cron
	ctx    context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	runs map[string]*Run
	ids  map[string]cron.EntryID
}

// New returns a Scheduler that logs to logger. It runs nothing until Open.
func New(logger *slog.Logger) *Scheduler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cl := cronLogger{logger}
	return &Scheduler{
		logger: logger,
		cron: cron.New(
			cron.WithParser(parser),
			cron.WithLogger(cl),
			cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)),
		),
		ctx:    ctx,
		cancel: cancel,
		runs:   make(map[string]*Run),
		ids:    make(map[string]cron.EntryID),
	}
}

// Add schedules fn under name. It fails when spec is invalid or name is taken.
// An empty spec disables the job and is not an error.
func (s *Scheduler) Add(name, spec string, fn Func) error {
	if spec == "" {
		s.logger.Info("job disabled", slog.String("job", name))
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[name]; ok {
		return fmt.Errorf("add job %q: already scheduled", name)
	}
	run := &Run{Name: name, Spec: spec}
	id, err := s.cron.AddFunc(spec, func() { s.run(run, fn) })
	if err != nil {
		return fmt.Errorf("add job %q: schedule %q: %w", name, spec, err)
	}
	s.ids[name] = id
	s.runs[name] = run
	return nil
}

func (s *Scheduler) run(run *Run, fn Func) {
	start := time.Now()
	err := fn(s.ctx)
	d := time.Since(start)
	if err != nil {
		s.logger.Error("job failed", slog.String("job", run.Name), slog.Duration("took", d), slog.Any("error", err))
	} else {
		s.logger.Debug("job done", slog.String("job", run.Name), slog.Duration("took", d))
	}
	s.mu.Lock()
	run.Started, run.Duration, run.Err = start, d, err
	s.mu.Unlock()
}

// Runs returns a copy of each job's last run and next scheduled time, sorted
// by nothing in particular.
func (s *Scheduler) Runs() []Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Run, 0, len(s.runs))
	for name, r := range s.runs {
		c := *r
		c.Next = s.cron.Entry(s.ids[name]).Next
		out = append(out, c)
	}
	return out
}

// Open starts the schedule. It does not block.
func (s *Scheduler) Open() error {
	s.cron.Start()
	return nil
}

// Close stops scheduling, cancels the context running jobs see and waits for
// them to return or for ctx to end, whichever comes first.
func (s *Scheduler) Close(ctx context.Context) error {
	done := s.cron.Stop()
	s.cancel()
	select {
	case <-done.Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop jobs: %w", ctx.Err())
	}
}

// cronLogger adapts slog to cron's logger interface.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, slog.Any("error", err))...)
}
