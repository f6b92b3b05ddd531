package ops

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive/archivetest"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/store"
)

// searchService is a Service with an open index over one archived,
// finished meeting ("nt-1": a summary about zeppelins).
func searchService(t *testing.T) *Service {
	t.Helper()
	s := newTestService(t)
	archiveMeeting(t, s.DataDir, "nt-1", map[string]string{"summary.json": `{"summary":"The zeppelin order is late."}`, "recording.mp4": "bytes"})
	if _, err := s.DB.UpdateNotetaker("nt-1", func(nt *store.Notetaker) error {
		nt.ArchiveDone, nt.MediaStatus = true, "available"
		nt.Archived = map[string]store.ArchivedFile{"summary": {Name: "summary.json", ArchivedAt: time.Now().AddDate(0, 0, -90)},
			"recording": {Name: "recording.mp4", ArchivedAt: time.Now().AddDate(0, 0, -90)}}
		nt.DeletesAt = time.Now().AddDate(0, 0, -60)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.Index = search.New(s.DataDir)
	if err := s.Index.Open(); err != nil {
		t.Fatal(err)
	}
	s.Index.Wait()
	t.Cleanup(func() { s.Index.Close() })
	return s
}

// The search, export and reindex operations give the same through the
// socket as directly.
func TestFinder_SocketAndDirect(t *testing.T) {
	s := searchService(t)
	var backfilled int
	s.Backfill = func(context.Context, int) (int, error) { backfilled++; return 0, nil }
	c := serve(t, s)
	ctx := context.Background()
	for _, f := range []struct {
		name string
		op   Finder
	}{{"direct", s}, {"socket", c}} {
		t.Run(f.name, func(t *testing.T) {
			res, err := f.op.Search(ctx, "zeppelin", 10)
			if err != nil || res.Total != 1 || res.Hits[0].NotetakerID != "nt-1" || !strings.Contains(res.Hits[0].Snippet, search.MarkStart+"zeppelin"+search.MarkEnd) {
				t.Fatalf("search: %+v, %v", res, err)
			}
			var buf bytes.Buffer
			if err := f.op.Export(ctx, "nt-1", &buf); err != nil {
				t.Fatal(err)
			}
			archivetest.Check(t, &buf, "nt-1")
			if err := f.op.Export(ctx, "nt-unknown", io.Discard); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("export of an unknown meeting: %v, want ErrNotFound", err)
			}
			before := backfilled
			r, err := f.op.Reindex(ctx)
			if err != nil || r.Meetings != 1 || backfilled != before+1 {
				t.Fatalf("reindex: %+v, %v (backfill ran %d times)", r, err, backfilled-before)
			}
		})
	}
}

// Retention's pruning reaches the index: the pruned summary is no longer
// found. The index folder is not in a backup.
func TestFinder_PruneUpdatesIndexAndBackupLeavesItOut(t *testing.T) {
	s := searchService(t)
	if _, err := s.Retention(context.Background(), RetentionPolicy{MediaKeepDays: 30}); err != nil {
		t.Fatal(err)
	}
	if nt, _ := s.DB.Notetaker("nt-1"); nt.PrunedAt.IsZero() {
		t.Fatal("not pruned")
	}
	if res, err := s.Search(context.Background(), "zeppelin", 10); err != nil || res.Total != 0 {
		t.Fatalf("a pruned summary is still found: %+v, %v", res, err)
	}
	var buf bytes.Buffer
	if err := s.Backup(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	for _, name := range tarNames(t, buf.Bytes()) {
		if strings.HasPrefix(name, search.Dir+"/") || name == search.Dir {
			t.Fatalf("the search index is in the backup: %s", name)
		}
	}
	if names := tarNames(t, buf.Bytes()); !slices.Contains(names, datadir.DBFile) {
		t.Fatalf("backup %v lacks the database", names)
	}
}
