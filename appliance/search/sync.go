package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// Bounds of one batch while synchronising or rebuilding: memory grows with
// a batch (bleve analyses it whole), not with the archive.
const (
	syncBatchDocs  = 64
	syncBatchBytes = 2 << 20
)

// progressEvery is how often a long synchronisation logs its progress.
const progressEvery = 5 * time.Second

// SyncStats says what a synchronisation did.
type SyncStats struct {
	Meetings int // folders with a manifest
	Indexed  int // documents (re)written
	Removed  int // documents of folders that are gone
	Took     time.Duration
}

// meetingIDs lists the folders under {dataDir}/media whose names are
// Notetaker IDs, in name order.
func meetingIDs(dataDir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dataDir, "media"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("list meetings: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && archive.SafeID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// sync brings the open index in line with the archive: every folder whose
// fingerprint differs from the one its document carries is indexed again,
// every document whose folder (or manifest) is gone is removed. Batches
// are bounded and each is persisted before the next, so a kill -9 loses at
// most one batch, which the next sync redoes. An index whose documents
// cannot be read is replaced by an empty one, then filled.
func (ix *Index) sync(ctx context.Context) (SyncStats, error) {
	start := time.Now()
	var st SyncStats
	ids, err := meetingIDs(ix.DataDir)
	if err != nil {
		return st, err
	}
	indexed, err := ix.prints()
	if err != nil && ctx.Err() == nil {
		ix.Logger.Warn("search index damaged: rebuilding it from the archive", slog.Any("error", err))
		if err := ix.recreate(); err != nil {
			return st, err
		}
		indexed = map[string]string{}
	} else if err != nil {
		return st, err
	}
	var stale []string
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		fp, err := fingerprint(filepath.Join(ix.DataDir, "media", id))
		if err != nil {
			ix.Logger.Warn("search index: meeting folder unreadable", slog.String("notetaker", id), slog.Any("error", err))
			continue
		}
		old, known := indexed[id]
		delete(indexed, id)
		switch {
		case fp == "" && known:
			stale = append(stale, id) // manifest gone: addToBatch removes it
			st.Removed++
		case fp == "":
		case old != fp:
			st.Meetings++
			stale = append(stale, id)
		default:
			st.Meetings++
		}
	}
	for id := range indexed { // documents whose folder is gone
		stale = append(stale, id)
		st.Removed++
	}
	if len(stale) == 0 {
		return st, nil
	}
	ix.Logger.Info("search index: indexing meetings", slog.Int("meetings", len(stale)), slog.Int("archived", st.Meetings))
	last := time.Now()
	for i := 0; i < len(stale); {
		n, err := ix.syncBatch(ctx, stale[i:])
		if err != nil {
			return st, err
		}
		i += n
		st.Indexed += n
		if time.Since(last) >= progressEvery {
			last = time.Now()
			ix.Logger.Info("search index: progress", slog.Int("done", i), slog.Int("of", len(stale)))
		}
	}
	st.Indexed -= st.Removed
	st.Took = time.Since(start)
	ix.Logger.Info("search index ready", slog.Int("meetings", st.Meetings), slog.Int("indexed", st.Indexed),
		slog.Int("removed", st.Removed), slog.Duration("took", st.Took.Round(time.Millisecond)))
	return st, nil
}

// recreate replaces the open index by an empty one.
func (ix *Index) recreate() error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.idx != nil {
		ix.idx.Close()
		ix.idx = nil
	}
	if err := os.RemoveAll(ix.path()); err != nil {
		return fmt.Errorf("remove damaged search index: %w", err)
	}
	idx, err := create(ix.path())
	if err != nil {
		return err
	}
	ix.idx, ix.opened = idx, true
	return nil
}

// syncBatch indexes the first meetings of ids, up to the batch bounds, in
// one persisted batch, and returns how many it took.
func (ix *Index) syncBatch(ctx context.Context, ids []string) (int, error) {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	idx, err := ix.acquire()
	if err != nil {
		return 0, err
	}
	defer ix.mu.RUnlock()
	return fillBatch(ctx, idx, ix.DataDir, ids, ix.Logger)
}

// fillBatch indexes the first of ids into idx, one bounded batch.
func fillBatch(ctx context.Context, idx bleve.Index, dataDir string, ids []string, log *slog.Logger) (int, error) {
	b := idx.NewBatch()
	n, bytes := 0, 0
	for _, id := range ids {
		if n >= syncBatchDocs || bytes >= syncBatchBytes {
			break
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		size, err := addToBatch(b, dataDir, id)
		if err != nil {
			log.Warn("search index: meeting not indexed", slog.String("notetaker", id), slog.Any("error", err))
		}
		n++
		bytes += size
	}
	if err := idx.Batch(b); err != nil {
		return 0, fmt.Errorf("search index batch: %w", err)
	}
	return n, nil
}

// prints reads every document's fingerprint, by ID. A panic in bleve (a
// corrupt segment) is reported as an error.
func (ix *Index) prints() (out map[string]string, err error) {
	idx, err := ix.acquire()
	if err != nil {
		return nil, err
	}
	defer ix.mu.RUnlock()
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("read indexed meetings: panic: %v", p)
		}
	}()
	n, err := idx.DocCount()
	if err != nil {
		return nil, err
	}
	out = make(map[string]string, n)
	if n == 0 {
		return out, nil
	}
	req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), int(n), 0, false)
	req.Fields = []string{fieldPrint}
	res, err := idx.Search(req)
	if err != nil {
		return nil, fmt.Errorf("read indexed meetings: %w", err)
	}
	for _, h := range res.Hits {
		fp, _ := h.Fields[fieldPrint].(string)
		out[h.ID] = fp
	}
	return out, nil
}

// Rebuild builds the index anew from the archive, beside the current one
// ({data_dir}/index.new), then swaps it in; searches go to the old index
// until the swap. progress, when set, is called after each batch with how
// many meetings are done of how many. Changes made while it ran are picked
// up by a synchronisation right after the swap.
func (ix *Index) Rebuild(ctx context.Context, progress func(done, total int)) (SyncStats, error) {
	start := time.Now()
	var st SyncStats
	ids, err := meetingIDs(ix.DataDir)
	if err != nil {
		return st, err
	}
	tmp := ix.path() + ".new"
	if err := os.RemoveAll(tmp); err != nil {
		return st, fmt.Errorf("rebuild search index: %w", err)
	}
	fresh, err := create(tmp)
	if err != nil {
		return st, err
	}
	ix.Logger.Info("search index: rebuilding", slog.Int("meetings", len(ids)))
	last := time.Now()
	for i := 0; i < len(ids); {
		n, err := fillBatch(ctx, fresh, ix.DataDir, ids[i:], ix.Logger)
		if err != nil {
			fresh.Close()
			os.RemoveAll(tmp)
			return st, err
		}
		i += n
		if progress != nil {
			progress(i, len(ids))
		}
		if time.Since(last) >= progressEvery {
			last = time.Now()
			ix.Logger.Info("search index: progress", slog.Int("done", i), slog.Int("of", len(ids)))
		}
	}
	count, _ := fresh.DocCount()
	if err := fresh.Close(); err != nil {
		return st, fmt.Errorf("rebuild search index: %w", err)
	}
	if err := ix.swap(tmp); err != nil {
		return st, err
	}
	if _, err := ix.sync(ctx); err != nil {
		return st, err
	}
	st = SyncStats{Meetings: int(count), Indexed: int(count), Took: time.Since(start)}
	ix.Logger.Info("search index rebuilt", slog.Int("meetings", st.Meetings), slog.Duration("took", st.Took.Round(time.Millisecond)))
	return st, nil
}

// swap replaces the open index by the one built at tmp.
func (ix *Index) swap(tmp string) error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.idx != nil {
		if err := ix.idx.Close(); err != nil {
			return fmt.Errorf("rebuild search index: %w", err)
		}
		ix.idx = nil
	}
	if err := os.RemoveAll(ix.path()); err != nil {
		return fmt.Errorf("rebuild search index: %w", err)
	}
	if err := os.Rename(tmp, ix.path()); err != nil {
		return fmt.Errorf("rebuild search index: %w", err)
	}
	if err := datadir.SyncDir(ix.DataDir); err != nil {
		return err
	}
	idx, err := openChecked(ix.path())
	if err != nil {
		return fmt.Errorf("rebuild search index: %w", err)
	}
	ix.idx, ix.opened = idx, true
	return nil
}
