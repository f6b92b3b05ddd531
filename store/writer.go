package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Every write to the store goes through one committer goroutine, which runs
// all the writes waiting at that moment in one bbolt transaction: one fsync
// for the lot. A lone write is committed at once, with no delay (unlike
// bbolt's DB.Batch, which waits up to MaxBatchDelay to gather company); under
// load, the writes that queue during one commit form the next. Webhook
// ingests and the workers' writes (leases, records, completions) share the
// same commits instead of queueing behind each other's fsyncs.
//
// If a batch fails, each write in it is retried in a transaction of its own,
// so one failing write cannot fail its neighbours. A write function may
// therefore run more than once before its transaction commits: it must derive
// everything from the transaction and reset whatever it reports to the caller
// at its start.
//
// BenchmarkIngest_GroupCommit against BenchmarkIngest_BoltBatch measures the
// choice (README, "Performance").

// writeReq is one write waiting for a commit.
type writeReq struct {
	fn   func(tx *bolt.Tx) error
	err  error
	done chan struct{}
}

// committer is the single writer.
type committer struct {
	db       *DB
	queue    chan *writeReq
	quit     chan struct{} // closed by close, after closed is set
	finished chan struct{} // closed when the loop has drained and exited

	// mu orders sends against close: submit sends under the read lock and
	// close sets closed under the write lock, so once close holds it no
	// request can enter the queue and the final drain sees them all.
	mu     sync.RWMutex
	closed bool

	// Totals for CommitStats.
	commits, writes, busy, work atomic.Int64
}

// CommitStats are the committer's running totals since Open: how many
// transactions it committed, how many writes they carried, and how long it
// spent in them (from starting the transaction to fsync done), of which
// Work running the write functions (the rest is bbolt's commit: pages
// written, two fdatasyncs). Writes / Commits is the mean batch; Busy /
// Commits the mean commit time.
type CommitStats struct {
	Commits int64
	Writes  int64
	Busy    time.Duration
	Work    time.Duration
}

// CommitStats returns the committer's totals (zero for a read-only store).
func (db *DB) CommitStats() CommitStats {
	if db.writer == nil {
		return CommitStats{}
	}
	c := db.writer
	return CommitStats{Commits: c.commits.Load(), Writes: c.writes.Load(), Busy: time.Duration(c.busy.Load()),
		Work: time.Duration(c.work.Load())}
}

func newCommitter(db *DB) *committer {
	c := &committer{
		db:       db,
		queue:    make(chan *writeReq, 4096),
		quit:     make(chan struct{}),
		finished: make(chan struct{}),
	}
	go c.loop()
	return c
}

// write runs fn in a read-write transaction shared with whatever other
// writes are waiting, and returns once that transaction has committed or
// failed. fn must be safe to run more than once (see above). A read-only
// store runs it in a transaction of its own, which bbolt refuses.
func (db *DB) write(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if db.writer == nil {
		return db.db.Update(fn)
	}
	req := &writeReq{fn: fn, done: make(chan struct{})}
	if err := db.writer.submit(ctx, req); err != nil {
		return err
	}
	select {
	case <-req.done:
		return req.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *committer) submit(ctx context.Context, req *writeReq) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrClosed
	}
	select {
	case c.queue <- req: // the loop keeps draining, so this cannot block close forever
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops accepting writes, commits what is queued and waits.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	close(c.quit)
	<-c.finished
}

func (c *committer) loop() {
	defer close(c.finished)
	batch := make([]*writeReq, 0, c.db.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case req := <-c.queue:
			batch = append(batch, req)
		case <-c.quit:
			// Closing: no new sends can start (see mu), so what is queued now
			// is all there will be. Fall through and drain it in batches.
		}
	fill:
		for len(batch) < c.db.MaxBatch {
			select {
			case req := <-c.queue:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		if len(batch) == 0 {
			return // quit, and the queue is empty
		}
		c.commit(batch)
	}
}

// commit runs batch in one transaction, falling back to one transaction per
// write when the batch fails.
func (c *committer) commit(batch []*writeReq) {
	start := time.Now()
	var work time.Duration
	err := c.db.db.Update(func(tx *bolt.Tx) error {
		for _, req := range batch {
			if err := req.fn(tx); err != nil {
				return err
			}
		}
		work = time.Since(start)
		return nil
	})
	if err != nil && len(batch) > 1 {
		for _, req := range batch {
			c.commit([]*writeReq{req})
		}
		return
	}
	c.commits.Add(1)
	c.writes.Add(int64(len(batch)))
	c.busy.Add(int64(time.Since(start)))
	c.work.Add(int64(work))
	for _, req := range batch {
		req.err = err
		close(req.done)
	}
}
