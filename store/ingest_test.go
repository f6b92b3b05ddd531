package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

func ingestOf(id, subject string) *store.Ingest {
	return &store.Ingest{
		Notification: store.Notification{ID: id, Type: "notetaker.meeting_state", Body: []byte(`{"id":"` + id + `"}`)},
		Tasks:        []store.TaskRef{{Kind: store.TaskNotetaker, Subject: subject}},
	}
}

func TestIngest_StoresNotificationDedupeAndTask(t *testing.T) {
	db := storetest.MustOpen(t)
	ctx := context.Background()

	res, err := db.Ingest(ctx, ingestOf("ntf-1", "nt1"))
	if err != nil || res.Duplicate || res.Seq != 1 {
		t.Fatalf("first ingest: %+v, %v", res, err)
	}
	res, err = db.Ingest(ctx, ingestOf("ntf-1", "nt1"))
	if err != nil || !res.Duplicate || res.Seq != 1 {
		t.Fatalf("duplicate ingest: %+v, %v", res, err)
	}
	if _, err := db.Ingest(ctx, ingestOf("ntf-2", "nt1")); err != nil {
		t.Fatal(err)
	}

	n, err := db.Notification(1)
	if err != nil || n.ID != "ntf-1" || n.ReceivedAt.IsZero() || string(n.Body) != `{"id":"ntf-1"}` {
		t.Fatalf("notification 1: %+v, %v", n, err)
	}
	if seq, err := db.NotificationSeq("ntf-2"); err != nil || seq != 2 {
		t.Fatalf("seq of ntf-2: %d, %v", seq, err)
	}
	if _, err := db.NotificationSeq("nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	task, err := db.Task("notetaker/nt1")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(task.Refs) != "[1 2]" {
		t.Fatalf("task refs %v, want both notifications coalesced into one task", task.Refs)
	}
	if n, _ := db.CountNotifications(); n != 2 {
		t.Fatalf("%d notifications stored, want 2", n)
	}
}

func TestIngest_ConcurrentDuplicatesStoredOnce(t *testing.T) {
	db := storetest.MustOpen(t)
	var wg sync.WaitGroup
	results := make([]store.IngestResult, 5)
	for i := range results {
		wg.Go(func() {
			res, err := db.Ingest(context.Background(), ingestOf("ntf-dup", "nt1"))
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	fresh := 0
	for _, r := range results {
		if !r.Duplicate {
			fresh++
		}
		if r.Seq != 1 {
			t.Errorf("result %+v, want seq 1", r)
		}
	}
	if fresh != 1 {
		t.Fatalf("%d deliveries stored as new, want 1", fresh)
	}
	if n, _ := db.CountNotifications(); n != 1 {
		t.Fatalf("%d notifications, want 1", n)
	}
	tasks, _ := db.Tasks()
	if len(tasks) != 1 || len(tasks[0].Refs) != 1 || tasks[0].Gen != 1 {
		t.Fatalf("tasks = %+v, want one task with one ref", tasks)
	}
}

func TestIngest_ManyConcurrentWritersAllDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notekeeper.db")
	db := storetest.MustOpenAt(t, path)
	const writers, each = 32, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("ntf-%d-%d", w, i)
				if _, err := db.Ingest(context.Background(), ingestOf(id, fmt.Sprintf("nt%d", i%7))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	storetest.MustClose(t, db)

	db = storetest.MustOpenAt(t, path)
	if n, _ := db.CountNotifications(); n != writers*each {
		t.Fatalf("%d notifications after reopen, want %d", n, writers*each)
	}
	tasks, _ := db.Tasks()
	refs := 0
	for _, task := range tasks {
		refs += len(task.Refs)
	}
	if len(tasks) != 7 || refs != writers*each {
		t.Fatalf("%d tasks holding %d refs, want 7 tasks holding %d", len(tasks), refs, writers*each)
	}
}

func TestIngest_AfterCloseFails(t *testing.T) {
	db := storetest.MustOpen(t)
	storetest.MustClose(t, db)
	if _, err := db.Ingest(context.Background(), ingestOf("ntf-1", "nt1")); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("ingest after close: %v", err)
	}
}

func TestIngest_RejectsBadIDs(t *testing.T) {
	db := storetest.MustOpen(t)
	for name, id := range map[string]string{"empty": "", "too long": string(make([]byte, store.MaxEnvelopeIDLen+1))} {
		if _, err := db.Ingest(context.Background(), ingestOf(id, "nt1")); err == nil {
			t.Errorf("%s id accepted", name)
		}
	}
}

func TestIngest_SignalsWorkers(t *testing.T) {
	db := storetest.MustOpen(t)
	select {
	case <-db.TaskSignal():
		t.Fatal("signal before any task")
	default:
	}
	if _, err := db.Ingest(context.Background(), ingestOf("ntf-1", "nt1")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-db.TaskSignal():
	default:
		t.Fatal("no signal after a task was enqueued")
	}
}

// benchmarkIngest posts b.N distinct notifications from 32 goroutines.
func benchmarkIngest(b *testing.B, ingest func(db *store.DB, in *store.Ingest) error) {
	db := storetest.MustOpen(b)
	body := make([]byte, 3000)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	var mu sync.Mutex
	n := 0
	b.SetParallelism(16) // 2 cores × 16 = 32 writers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			n++
			id := fmt.Sprintf("ntf-%d", n)
			mu.Unlock()
			in := &store.Ingest{
				Notification: store.Notification{ID: id, Type: "notetaker.media", Body: body},
				Tasks:        []store.TaskRef{{Kind: store.TaskNotetaker, Subject: id}},
			}
			if err := ingest(db, in); err != nil {
				b.Error(err)
			}
		}
	})
}

// BenchmarkIngest_GroupCommit measures Ingest's committer.
func BenchmarkIngest_GroupCommit(b *testing.B) {
	benchmarkIngest(b, func(db *store.DB, in *store.Ingest) error {
		_, err := db.Ingest(context.Background(), in)
		return err
	})
}

// BenchmarkIngest_BoltBatch measures the alternative the committer was chosen
// over: bbolt's DB.Batch (default 10 ms MaxBatchDelay) running the same
// writes, through the exported test hook.
func BenchmarkIngest_BoltBatch(b *testing.B) {
	benchmarkIngest(b, func(db *store.DB, in *store.Ingest) error {
		return store.IngestWithBoltBatch(db, in)
	})
}
