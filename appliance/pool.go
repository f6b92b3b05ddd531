package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/store"
)

// Handler does the work of one task. It must be idempotent: a task runs at
// least once, and again after a crash. A nil error completes the task; a
// apperr.PermanentError dead-letters it at once; any other error retries it with
// back-off until MaxAttempts; a apperr.LaterError postpones it without counting the
// attempt. ctx is cancelled when the pool closes, or when the task's lease
// (renewed while the handler runs) is lost to another run; a handler should
// then return ctx.Err() promptly.
type Handler func(ctx context.Context, t *store.Task) error

// Pool runs tasks from the store's queue on a bounded number of goroutines.
// Build it with NewPool, set its fields, Handle each task kind, then Open and
// finally Close.
type Pool struct {
	DB          *store.DB
	Logger      *slog.Logger
	Workers     int           // tasks run at once; default 4
	MaxAttempts int           // attempts before a task is dead-lettered; default 12
	Lease       time.Duration // how long a worker owns a task before another may take it; default 10m
	BackoffBase time.Duration // first retry delay; default 5s
	BackoffMax  time.Duration // retry delay cap; default 1h
	// Poll bounds how long the pool sleeps without a signal; default 30s.
	Poll time.Duration
	// DeadLetterAlert, if set, names the alert to raise when a task is
	// dead-lettered (nil for none); it is raised in the same transaction as
	// the dead letter, so a crash cannot lose it.
	DeadLetterAlert func(t *store.Task, err error) *store.Alert
	// Metrics, if set, counts task runs by kind and outcome.
	Metrics *Metrics

	handlers   map[store.TaskKind]Handler
	leasesLost atomic.Int64
	ctx        context.Context
	cancel     context.CancelFunc
	done       chan struct{} // closed when the dispatcher has returned
	wg         sync.WaitGroup
}

// NewPool returns a pool with default settings.
func NewPool(db *store.DB) *Pool {
	return &Pool{
		DB: db, Logger: slog.New(slog.DiscardHandler),
		Workers: 4, MaxAttempts: 12, Lease: 10 * time.Minute,
		BackoffBase: 5 * time.Second, BackoffMax: time.Hour, Poll: 30 * time.Second,
		handlers: make(map[store.TaskKind]Handler),
	}
}

// Handle registers h for tasks of kind. Call it before Open.
func (p *Pool) Handle(kind store.TaskKind, h Handler) { p.handlers[kind] = h }

// Open starts dispatching. It does not block.
func (p *Pool) Open() error {
	if p.Workers < 1 {
		return fmt.Errorf("open pool: %d workers", p.Workers)
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.done = make(chan struct{})
	go p.dispatch()
	return nil
}

// Close stops leasing, cancels running handlers and waits for them until ctx
// ends. A task interrupted by Close keeps its lease; the store hands it out
// again at the next Open, so no work is lost.
func (p *Pool) Close(ctx context.Context) error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	waited := make(chan struct{})
	go func() { <-p.done; p.wg.Wait(); close(waited) }()
	select {
	case <-waited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop workers: %w", ctx.Err())
	}
}

// dispatch leases as many tasks as there are free workers, then sleeps until
// a worker frees up, the store signals new work, the next task is due or Poll
// passes.
func (p *Pool) dispatch() {
	defer close(p.done)
	free := make(chan struct{}, p.Workers)
	running := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := p.Poll
		if running < p.Workers {
			tasks, next, err := p.DB.Lease(p.Workers-running, p.Lease)
			if err != nil {
				p.Logger.Error("lease tasks", slog.Any("error", err))
				wait = p.BackoffBase
			} else if !next.IsZero() {
				wait = min(wait, max(time.Until(next), time.Millisecond))
			}
			for _, t := range tasks {
				running++
				p.wg.Add(1)
				go func() {
					defer p.wg.Done()
					p.run(t)
					free <- struct{}{}
				}()
			}
		}
		timer.Reset(wait)
		select {
		case <-p.ctx.Done():
			return
		case <-free:
			running--
			// Drain other finished workers without blocking.
			for drained := false; !drained; {
				select {
				case <-free:
					running--
				default:
					drained = true
				}
			}
		case <-p.DB.TaskSignal():
		case <-timer.C:
		}
	}
}

// run executes one leased task and records the outcome. While the handler
// runs, its lease is renewed every Lease/3, so a handler slower than the
// lease is not started a second time; if the lease is lost anyway (the
// store was unwritable for a whole lease), the handler's ctx is cancelled
// and its outcome is dropped by the store (ErrLeaseLost), counted as
// "lease_lost" and logged: the run that holds the task now reports.
func (p *Pool) run(t *store.Task) {
	log := p.Logger.With(slog.String("task", t.Key()), slog.Int("attempt", t.Attempts))
	err := p.callLeased(t, log)
	if p.ctx.Err() != nil && err != nil {
		// Interrupted by Close: leave the lease; the next Open releases it.
		log.Info("task interrupted by shutdown")
		return
	}
	var rerr error
	var outcome string
	var perm *apperr.PermanentError
	var later *apperr.LaterError
	switch {
	case err == nil:
		rerr, outcome = p.DB.Complete(t), "done"
		log.Debug("task done")
	case errors.As(err, &later):
		rerr, outcome = p.DB.Postpone(t, later.Reason, time.Now().Add(later.After)), "postponed"
		log.Info("task postponed", slog.Duration("for", later.After), slog.String("reason", later.Reason))
	case errors.As(err, &perm) || t.Attempts >= p.MaxAttempts:
		var alert *store.Alert
		if p.DeadLetterAlert != nil {
			alert = p.DeadLetterAlert(t, err)
		}
		rerr, outcome = p.DB.DeadLetter(t, err.Error(), alert), "dead_letter"
		log.Error("task dead-lettered", slog.Any("error", err))
	default:
		delay := p.backoff(t.Attempts)
		var ra *apperr.RetryAfterError
		if errors.As(err, &ra) {
			delay = max(delay, ra.After)
		}
		rerr, outcome = p.DB.Fail(t, err.Error(), time.Now().Add(delay)), "retry"
		log.Warn("task failed; will retry", slog.Duration("in", delay), slog.Any("error", err))
	}
	switch {
	case errors.Is(rerr, store.ErrLeaseLost):
		p.leasesLost.Add(1)
		p.Metrics.TaskRun(t.Kind, "lease_lost")
		log.Warn("task outcome dropped: its lease was lost to another run", slog.String("outcome", outcome))
	case rerr != nil:
		// The lease expires and the task runs again: at least once holds.
		p.Metrics.TaskRun(t.Kind, outcome)
		log.Error("record task outcome", slog.Any("error", rerr))
	default:
		p.Metrics.TaskRun(t.Kind, outcome)
	}
}

// LeasesLost counts the runs whose outcome was dropped because their lease
// had passed to another run.
func (p *Pool) LeasesLost() int64 { return p.leasesLost.Load() }

// errLeaseLost is the cause of a handler's ctx cancelled by a lost lease.
var errLeaseLost = errors.New("task lease lost to another run")

// callLeased runs the handler for t while renewing its lease every Lease/3.
func (p *Pool) callLeased(t *store.Task, log *slog.Logger) error {
	ctx, cancel := context.WithCancelCause(p.ctx)
	defer cancel(nil)
	stop := make(chan struct{})
	beat := make(chan struct{})
	go func() {
		defer close(beat)
		tick := time.NewTicker(max(p.Lease/3, time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			err := p.DB.Renew(t, p.Lease)
			if errors.Is(err, store.ErrLeaseLost) {
				log.Warn("task lease lost while running; stopping it")
				cancel(errLeaseLost)
				return
			} else if err != nil {
				// Try again at the next beat; two more before the lease ends.
				log.Error("renew task lease", slog.Any("error", err))
			}
		}
	}()
	err := p.call(ctx, t)
	close(stop)
	<-beat
	return err
}

// call runs the handler for t, turning a panic into an error.
func (p *Pool) call(ctx context.Context, t *store.Task) (err error) {
	h, ok := p.handlers[t.Kind]
	if !ok {
		return apperr.Permanent(fmt.Errorf("no handler for task kind %q", t.Kind))
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return h(ctx, t)
}

// backoff is the delay before attempt+1: BackoffBase doubled per attempt,
// capped at BackoffMax, with "equal jitter" (half fixed, half random) so
// retries of many tasks spread out but never come back sooner than half the
// nominal delay.
func (p *Pool) backoff(attempt int) time.Duration {
	d := p.BackoffBase
	for i := 1; i < attempt && d < p.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, p.BackoffMax)
	half := d / 2
	return half + rand.N(half+1)
}
