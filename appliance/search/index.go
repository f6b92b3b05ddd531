package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/notekeeper/notekeeper/appliance/archive"
)

// Dir is the index's folder in the data dir.
const Dir = "index"

// ErrLocked: another process (the daemon) has the index open. Talk to it
// over the operator socket instead.
var ErrLocked = errors.New("search index is in use by another process")

// ErrClosed: the Index is not open.
var ErrClosed = errors.New("search index is not open")

// lockTimeout is how long Open waits for another process's lock on the
// index before it answers ErrLocked.
const lockTimeout = "2s"

// Index is the search index of one data dir. Make it with New, set the
// fields, Open, and Close. Its methods are safe for concurrent use; Update
// and Search may be called while the start-up synchronisation runs.
type Index struct {
	DataDir string
	Logger  *slog.Logger
	// IdleClose, when positive, closes the bleve index after this long
	// without a search or an update, and right after the start-up
	// synchronisation (the next search or update reopens it, which takes
	// milliseconds): an idle daemon then holds none of the index's pages.
	// Zero keeps it open until Close.
	IdleClose time.Duration

	mu      sync.RWMutex // guards idx, opened, closed: Search and Update hold it shared, reopening and swapping exclusively
	idx     bleve.Index
	opened  bool         // Open (or a Rebuild) ran: an idle-closed index may be reopened
	closed  bool         // Close ran
	lastUse atomic.Int64 // Unix nanoseconds of the last search or update
	writeMu sync.Mutex   // serialises Update and the sync batches, so an older read never overwrites a newer one
	syncing atomic.Bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup // every goroutine of the Index
	syncWG  sync.WaitGroup // the start-up synchronisation
}

// New returns an Index of dataDir ({dataDir}/index), not yet open.
func New(dataDir string) *Index {
	return &Index{DataDir: dataDir, Logger: slog.New(slog.DiscardHandler)}
}

func (ix *Index) path() string { return filepath.Join(ix.DataDir, Dir) }

// Open opens the index, synchronously: an index that is missing is
// created, one that cannot be opened (a crash mid-write, a truncated or
// corrupt file) is removed and created anew, and either way it is then
// brought in line with the archive in the background (Syncing reports
// true until that is done; Wait waits for it). ErrLocked when another
// process holds the index.
func (ix *Index) Open() error {
	routeBleveLog(ix.Logger)
	os.RemoveAll(ix.path() + ".new") // a Rebuild that did not finish
	idx, err := ix.openOrCreate(ix.path())
	if err != nil {
		return err
	}
	ix.idx, ix.opened = idx, true
	ix.lastUse.Store(time.Now().UnixNano())
	ctx, cancel := context.WithCancel(context.Background())
	ix.cancel = cancel
	if ix.IdleClose > 0 {
		ix.wg.Add(1)
		go ix.closeWhenIdle(ctx)
	}
	ix.syncing.Store(true)
	ix.wg.Add(1)
	ix.syncWG.Add(1)
	go func() {
		defer ix.wg.Done()
		defer ix.syncWG.Done()
		defer ix.syncing.Store(false)
		if _, err := ix.sync(ctx); err != nil && ctx.Err() == nil {
			ix.Logger.Error("search index not synchronised with the archive", slog.Any("error", err))
		}
		if ix.IdleClose > 0 {
			ix.closeIdle(0) // nobody has searched yet: let go of the files now
		}
	}()
	return nil
}

// openOrCreate opens the index at path, or creates it when missing, or
// recreates it when damaged.
func (ix *Index) openOrCreate(path string) (bleve.Index, error) {
	idx, err := openChecked(path)
	switch {
	case err == nil:
		return idx, nil
	case errors.Is(err, ErrLocked):
		return nil, err
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist):
		ix.Logger.Info("search index missing: building it from the archive", slog.String("path", path))
	default:
		ix.Logger.Warn("search index damaged: rebuilding it from the archive", slog.String("path", path), slog.Any("error", err))
		if err := os.RemoveAll(path); err != nil {
			return nil, fmt.Errorf("remove damaged search index: %w", err)
		}
	}
	return create(path)
}

// openChecked opens an existing index and proves it readable: a document
// count and a query over every segment. bleve may panic on a corrupt
// segment; that is reported as an error.
func openChecked(path string) (idx bleve.Index, err error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, bleve.ErrorIndexPathDoesNotExist
	}
	defer func() {
		if p := recover(); p != nil {
			if idx != nil {
				idx.Close()
			}
			idx, err = nil, fmt.Errorf("open search index: panic: %v", p)
		}
	}()
	idx, err = bleve.OpenUsing(path, runtimeConfig())
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) || strings.Contains(err.Error(), "timeout") {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("open search index: %w", err)
	}
	if err := probe(idx); err != nil {
		idx.Close()
		return nil, fmt.Errorf("open search index: %w", err)
	}
	return idx, nil
}

// probe counts the documents, reads a few stored fields and runs a text
// query, so a damaged index mostly shows itself at Open; the
// synchronisation then reads every document's fingerprint and rebuilds
// what it cannot read.
func probe(idx bleve.Index) error {
	n, err := idx.DocCount()
	if err != nil {
		return err
	}
	req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), int(min(n, 10)), 0, false)
	req.Fields = []string{fieldTitle, fieldStartsAt}
	if _, err := idx.Search(req); err != nil {
		return err
	}
	q := bleve.NewMatchQuery("notekeeper probe")
	q.SetField(fieldTranscript)
	_, err = idx.Search(bleve.NewSearchRequest(q))
	return err
}

// create makes a new, empty index at path.
func create(path string) (bleve.Index, error) {
	m, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("create search index: %w", err)
	}
	idx, err := bleve.NewUsing(path, m, "scorch", "scorch", runtimeConfig())
	if err != nil {
		return nil, fmt.Errorf("create search index: %w", err)
	}
	return idx, nil
}

// runtimeConfig is scorch's configuration. Batches wait until they are
// persisted (unsafe_batch false, the default), so an Update that returned
// survives kill -9. The persister and merger keep their defaults; memory
// stays bounded because texts are neither stored nor given term vectors
// and batches are small (see syncBatchDocs).
func runtimeConfig() map[string]any {
	return map[string]any{
		"bolt_timeout": lockTimeout,
		"unsafe_batch": false,
	}
}

// Close stops the background synchronisation and closes the index.
func (ix *Index) Close() error {
	if ix.cancel != nil {
		ix.cancel()
	}
	ix.wg.Wait()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.closed = true
	if ix.idx == nil {
		return nil
	}
	err := ix.idx.Close()
	ix.idx = nil
	if err != nil {
		return fmt.Errorf("close search index: %w", err)
	}
	return nil
}

// Syncing reports whether the start-up synchronisation with the archive is
// still running (search results may then be incomplete).
func (ix *Index) Syncing() bool { return ix.syncing.Load() }

// Wait waits until the start-up synchronisation is done (tests, the
// reindex command).
func (ix *Index) Wait() { ix.syncWG.Wait() }

// Update re-reads one meeting's folder and replaces its document: indexed
// from its manifest and the text files still there, or removed when the
// folder has no manifest. It returns once the change is persisted.
func (ix *Index) Update(id string) error {
	if !archive.SafeID(id) {
		return fmt.Errorf("index %q: not a Notetaker ID", id)
	}
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	idx, err := ix.acquire()
	if err != nil {
		return err
	}
	defer ix.mu.RUnlock()
	b := idx.NewBatch()
	if _, err := addToBatch(b, ix.DataDir, id); err != nil {
		return fmt.Errorf("index %s: %w", id, err)
	}
	if err := idx.Batch(b); err != nil {
		return fmt.Errorf("index %s: %w", id, err)
	}
	return nil
}

// addToBatch puts id's current document (or its removal) and fingerprint
// into b and returns about how many bytes of text it added.
func addToBatch(b *bleve.Batch, dataDir, id string) (int, error) {
	dir, err := archive.MediaDir(dataDir, id)
	if err != nil {
		return 0, err
	}
	fp, err := fingerprint(dir)
	if err != nil {
		return 0, err
	}
	if fp == "" {
		b.Delete(id)
		return 0, nil
	}
	m, err := readMeeting(id, dir)
	if errors.Is(err, archive.ErrNoManifest) {
		b.Delete(id)
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	doc := m.fields()
	doc[fieldPrint] = fp // in the document itself: both land or neither
	if err := b.Index(id, doc); err != nil {
		return 0, err
	}
	return m.size(), nil
}

// DocCount is how many meetings the index holds.
func (ix *Index) DocCount() (uint64, error) {
	idx, err := ix.acquire()
	if err != nil {
		return 0, err
	}
	defer ix.mu.RUnlock()
	return idx.DocCount()
}

// acquire returns the open bleve index with ix.mu held shared (the caller
// releases it), reopening an index closed for being idle. ErrClosed after
// Close or before Open.
func (ix *Index) acquire() (bleve.Index, error) {
	for {
		ix.mu.RLock()
		if ix.idx != nil {
			ix.lastUse.Store(time.Now().UnixNano())
			return ix.idx, nil
		}
		usable := ix.opened && !ix.closed
		ix.mu.RUnlock()
		if !usable {
			return nil, ErrClosed
		}
		if err := ix.reopen(); err != nil {
			return nil, err
		}
	}
}

// reopen opens the index again after an idle close.
func (ix *Index) reopen() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.idx != nil || ix.closed {
		return nil
	}
	idx, err := openChecked(ix.path())
	if err != nil {
		return fmt.Errorf("reopen search index: %w", err)
	}
	ix.idx = idx
	return nil
}

// closeWhenIdle closes the bleve index once IdleClose passed without use
// (never while the start-up synchronisation runs), until ctx ends.
func (ix *Index) closeWhenIdle(ctx context.Context) {
	defer ix.wg.Done()
	t := time.NewTicker(max(ix.IdleClose/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !ix.Syncing() {
			ix.closeIdle(ix.IdleClose)
		}
	}
}

// closeIdle closes the bleve index if it has not been used for idle.
func (ix *Index) closeIdle(idle time.Duration) {
	if time.Since(time.Unix(0, ix.lastUse.Load())) < idle {
		return
	}
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.idx != nil && time.Since(time.Unix(0, ix.lastUse.Load())) >= idle {
		if err := ix.idx.Close(); err != nil {
			ix.Logger.Warn("search index: idle close", slog.Any("error", err))
		}
		ix.idx = nil
	}
}
