package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

// TestBackup_ConsistentWhileWriting: a backup taken while notifications keep
// arriving opens, passes the consistency check and holds a prefix of them.
func TestBackup_ConsistentWhileWriting(t *testing.T) {
	db := storetest.MustOpen(t)
	ctx := context.Background()
	ingestN := func(from, to int) {
		for i := from; i < to; i++ {
			id := fmt.Sprintf("ntf-%04d", i)
			if _, err := db.Ingest(ctx, &store.Ingest{Notification: store.Notification{ID: id, Type: "t", Body: []byte("{}")},
				Tasks: []store.TaskRef{{Kind: store.TaskNotetaker, Subject: "nt-1"}}}); err != nil {
				t.Error(err)
				return
			}
		}
	}
	ingestN(0, 100)
	var wg sync.WaitGroup
	wg.Go(func() { ingestN(100, 600) })
	var buf bytes.Buffer
	var announced int64
	n, err := db.Backup(&buf, func(size int64) error { announced = size; return nil })
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if n != announced || int64(buf.Len()) != n {
		t.Fatalf("announced %d, wrote %d, buffer %d", announced, n, buf.Len())
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cp := storetest.MustOpenAt(t, path) // runs the consistency check on cleanup
	if err := cp.Check(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	cp.Notifications(0, 0, func(n *store.Notification) bool { ids = append(ids, n.ID); return true })
	if len(ids) < 100 {
		t.Fatalf("backup holds %d notifications, want at least the 100 before it began", len(ids))
	}
	for i, id := range ids {
		if id != fmt.Sprintf("ntf-%04d", i) {
			t.Fatalf("notification %d is %s: not a prefix", i, id)
		}
	}
	task, err := cp.Task("notetaker/nt-1")
	if err != nil || len(task.Refs) != len(ids) {
		t.Fatalf("task in the copy: %v refs for %d notifications (%v)", task, len(ids), err)
	}
}

func TestBackup_BeforeErrorAborts(t *testing.T) {
	db := storetest.MustOpen(t)
	boom := errors.New("boom")
	var buf bytes.Buffer
	if _, err := db.Backup(&buf, func(int64) error { return boom }); !errors.Is(err, boom) || buf.Len() != 0 {
		t.Fatalf("err %v, %d bytes written", err, buf.Len())
	}
}

func TestRequeue(t *testing.T) {
	ref := store.TaskRef{Kind: store.TaskNotetaker, Subject: "nt-1"}
	for _, tc := range []struct {
		name     string
		prepare  func(t *testing.T, db *store.DB) uint64 // returns the seq to requeue
		wantRefs []uint64
		wantErr  error
	}{
		{
			name: "task completed: comes back with the ref",
			prepare: func(t *testing.T, db *store.DB) uint64 {
				seq := ingest(t, db, "ntf-1", ref)
				leased, _, _ := db.Lease(1, 0)
				db.Complete(leased[0])
				return seq
			},
			wantRefs: []uint64{1},
		},
		{
			name: "task still waiting: the ref is not doubled",
			prepare: func(t *testing.T, db *store.DB) uint64 {
				return ingest(t, db, "ntf-1", ref)
			},
			wantRefs: []uint64{1},
		},
		{
			name: "joins the refs of a waiting task",
			prepare: func(t *testing.T, db *store.DB) uint64 {
				seq := ingest(t, db, "ntf-1")
				ingest(t, db, "ntf-2", ref)
				return seq
			},
			wantRefs: []uint64{2, 1},
		},
		{
			name:    "unknown sequence",
			prepare: func(t *testing.T, db *store.DB) uint64 { return 42 },
			wantErr: store.ErrNotFound,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.MustOpen(t)
			seq := tc.prepare(t, db)
			err := db.Requeue(seq, []store.TaskRef{ref})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				if _, err := db.Task(ref.Key()); !errors.Is(err, store.ErrNotFound) {
					t.Fatal("a failed requeue left a task")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			task, err := db.Task(ref.Key())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(task.Refs, tc.wantRefs) || task.Dead {
				t.Fatalf("refs %v dead %v, want %v", task.Refs, task.Dead, tc.wantRefs)
			}
		})
	}
}

func ingest(t *testing.T, db *store.DB, id string, tasks ...store.TaskRef) uint64 {
	t.Helper()
	res, err := db.Ingest(context.Background(), &store.Ingest{Notification: store.Notification{ID: id, Type: "t", Body: []byte("{}")}, Tasks: tasks})
	if err != nil {
		t.Fatal(err)
	}
	return res.Seq
}

func TestPruneNotifications_Batches(t *testing.T) {
	db := storetest.MustOpen(t)
	for i := range 5003 {
		ingest(t, db, fmt.Sprintf("ntf-%05d", i))
	}
	n, err := db.PruneNotifications(db.Now().Add(time.Hour))
	if err != nil || n != 5003 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	if c, _ := db.CountNotifications(); c != 0 {
		t.Fatalf("%d left", c)
	}
	// A redelivery after pruning is stored as new.
	res, err := db.Ingest(context.Background(), &store.Ingest{Notification: store.Notification{ID: "ntf-00001", Type: "t", Body: []byte("{}")}})
	if err != nil || res.Duplicate {
		t.Fatalf("%+v %v", res, err)
	}
}
