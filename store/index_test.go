package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// copyFixture copies testdata/name into a temporary directory.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	src, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "notekeeper.db")
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustBeMigrated fails t unless db is at the current schema version and
// passes Check (bbolt's check and the recount of counters and indexes).
func mustBeMigrated(t *testing.T, db *DB) {
	t.Helper()
	db.view(func(tx *bolt.Tx) error {
		if v, _ := schemaVersion(tx); v != uint64(len(migrations)) {
			t.Errorf("schema version %d, want %d", v, len(migrations))
		}
		return nil
	})
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}

// The store written by schema version 2 (testdata/store-v2.db, from
// seedFixture) opens with this binary: the migration builds the counters and
// indexes, which then agree with a recount and answer the queries.
func TestMigration_V2Fixture(t *testing.T) {
	path := copyFixture(t, "store-v2.db")
	db := NewDB(path)
	db.Now = func() time.Time { return fixtureEpoch.Add(time.Hour) }
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustBeMigrated(t, db)
	c, err := db.Counts()
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Notifications: 200, Notetakers: 60, Bookings: 5, Grants: 1, Alerts: 3,
		ArchivePending: 25, Archived: 20, ArchivePruned: 5}
	tasks, _ := db.Tasks()
	for _, tk := range tasks {
		if tk.Dead {
			want.TasksDead++
		} else {
			want.TasksLive++
		}
	}
	if c != want {
		t.Errorf("counts\n got %+v\nwant %+v", c, want)
	}
	if want.TasksDead != 4 || want.TasksLive < 60 {
		t.Errorf("fixture tasks: %d live, %d dead", want.TasksLive, want.TasksDead)
	}
	pending, err := db.PendingArchives(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 25 {
		t.Errorf("%d pending archives, want 25", len(pending))
	}
	for i := 1; i < len(pending); i++ {
		if pending[i].Deadline().Before(pending[i-1].Deadline()) {
			t.Errorf("pending archives out of deadline order at %d", i)
		}
	}
	soon, err := db.PendingArchives(fixtureEpoch.Add(72 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(soon) != 5 {
		t.Errorf("%d archives due within 72h, want the 5 at risk", len(soon))
	}
	archived, err := db.ArchivedBefore(fixtureEpoch)
	if err != nil {
		t.Fatal(err)
	}
	if len(archived) != 20 {
		t.Errorf("%d archived meetings before the epoch, want 20", len(archived))
	}
	stats, err := db.TaskStats()
	if err != nil {
		t.Fatal(err)
	}
	if s := stats[TaskCRM]; s.Dead != 2 {
		t.Errorf("crm stats %+v, want 2 dead", s)
	}
	if s := stats[TaskNotetaker]; s.Live != 60 || s.Oldest.IsZero() {
		t.Errorf("notetaker stats %+v, want 60 live with an oldest", s)
	}
}

// After a long random mix of writes through the store's own methods, the
// counters and indexes equal a full recount (Check compares them).
func TestCounters_MatchRecountAfterRandomOperations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notekeeper.db")
	db := NewDB(path)
	now := fixtureEpoch
	db.Now = func() time.Time { return now }
	db.AlertSinks = 1
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []TaskKind{TaskNotetaker, TaskArchive, TaskCRM, TaskGrant}
	var leased []*Task
	for i := range 3000 {
		now = now.Add(time.Duration(rng.IntN(120)) * time.Second)
		nt := fmt.Sprintf("nt%02d", rng.IntN(40))
		var err error
		switch op := rng.IntN(12); op {
		case 0, 1:
			_, err = db.Ingest(context.Background(), &Ingest{
				Notification: Notification{ID: fmt.Sprintf("n%d", rng.IntN(2000)), Type: "notetaker.updated", Body: []byte("{}")},
				Tasks:        []TaskRef{{Kind: kinds[rng.IntN(len(kinds))], Subject: nt}},
			})
		case 2, 3:
			_, err = db.UpdateNotetaker(nt, func(n *Notetaker) error {
				switch rng.IntN(6) {
				case 0:
					n.MediaStatus = []string{"processing", "available", "error", "deleted"}[rng.IntN(4)]
				case 1:
					n.DeletesAt = now.Add(time.Duration(rng.IntN(400)-200) * time.Hour)
				case 2:
					n.Archived = map[string]ArchivedFile{"recording": {Name: "r.mp4", ArchivedAt: now}}
					n.ArchiveDone = rng.IntN(2) == 0
				case 3:
					if n.ArchiveDone && rng.IntN(3) == 0 {
						n.PrunedAt = now
					}
				case 4:
					n.AvailableAt = now
				default:
					return fmt.Errorf("refused") // nothing written
				}
				return nil
			})
			if err != nil && err.Error() == fmt.Sprintf("update notetaker %q: refused", nt) {
				err = nil
			}
		case 4:
			var ts []*Task
			ts, _, err = db.Lease(3, time.Minute)
			leased = append(leased, ts...)
		case 5, 6:
			if len(leased) > 0 {
				j := rng.IntN(len(leased))
				tk := leased[j]
				leased = append(leased[:j], leased[j+1:]...)
				switch rng.IntN(4) {
				case 0:
					err = db.Complete(tk)
				case 1:
					err = db.Fail(tk, "later", now.Add(time.Minute))
				case 2:
					err = db.Fail(tk, "dead", time.Time{})
				default:
					err = db.DeadLetter(tk, "dead", &Alert{Kind: AlertArchiveFailed, Subject: tk.Subject, Message: "x"})
				}
				if errors.Is(err, ErrLeaseLost) {
					err = nil // a Retry or Enqueue since the lease replaced it: fenced, nothing written
				}
			}
		case 7:
			err = db.Retry(TaskRef{Kind: kinds[rng.IntN(len(kinds))], Subject: nt}.Key())
			if err != nil && errors.Is(err, ErrNotFound) {
				err = nil
			}
		case 8:
			err = db.Enqueue(TaskRef{Kind: kinds[rng.IntN(len(kinds))], Subject: nt})
		case 9:
			_, err = db.UpdateGrant(fmt.Sprintf("g%d", rng.IntN(5)), func(*Grant) error { return nil })
		case 10:
			_, err = db.PruneNotifications(now.Add(-time.Duration(rng.IntN(48)) * time.Hour))
		case 11:
			_, err = db.UpdateBooking(fmt.Sprintf("bk%d", rng.IntN(5)), func(b *Booking) error { b.NotetakerID = nt; return nil })
		}
		if err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
		if i%500 == 0 {
			if err := db.Check(); err != nil {
				t.Fatalf("after %d operations: %v", i, err)
			}
		}
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	// A reopen (which releases leases) keeps them in step too.
	db.Close()
	db = NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}

// Notifications written by schema 2 (format 1, bodies as received) read
// back unchanged next to new ones (format 2, compressed when it pays).
func TestNotifications_OldAndNewFormats(t *testing.T) {
	db := NewDB(copyFixture(t, "store-v2.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old, err := db.Notification(1)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"fx-0","type":"notetaker.updated","data":{"object":{"id":"nt000"}}}`; string(old.Body) != want {
		t.Errorf("old body %q, want %q", old.Body, want)
	}
	for _, tc := range []struct {
		name string
		body []byte
		enc  byte
	}{
		{"small", []byte(`{"a":1}`), bodyRaw},
		{"compressible", []byte(`{"notes":"` + strings.Repeat("the meeting agenda ", 200) + `"}`), bodyZstd},
		{"incompressible", randomBytes(4000), bodyRaw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := db.Ingest(context.Background(), &Ingest{Notification: Notification{ID: "new-" + tc.name, Type: "x", Body: tc.body}})
			if err != nil {
				t.Fatal(err)
			}
			db.view(func(tx *bolt.Tx) error {
				_, _, enc, err := decodeHead(res.Seq, tx.Bucket(bucketNotifications).Get(u64(res.Seq)))
				if err != nil || enc != tc.enc {
					t.Errorf("stored with encoding %d (%v), want %d", enc, err, tc.enc)
				}
				return nil
			})
			n, err := db.Notification(res.Seq)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(n.Body, tc.body) {
				t.Errorf("body changed in the store")
			}
		})
	}
}

func randomBytes(n int) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// RecentNotetakers pages through every Notetaker once, newest first.
func TestRecentNotetakers_Pages(t *testing.T) {
	db := NewDB(copyFixture(t, "store-v2.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var sizes []int
	seen := map[string]bool{}
	var last time.Time
	cursor := ""
	for {
		page, next, err := db.RecentNotetakers(cursor, 25)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(page))
		for _, nt := range page {
			if seen[nt.ID] {
				t.Errorf("%s listed twice", nt.ID)
			}
			seen[nt.ID] = true
			if !last.IsZero() && nt.FirstSeen.After(last) {
				t.Errorf("%s out of order", nt.ID)
			}
			last = nt.FirstSeen
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(sizes) != "[25 25 10]" || len(seen) != 60 {
		t.Errorf("pages %v, %d meetings; want [25 25 10], 60", sizes, len(seen))
	}
}

func TestRecentAlerts_NewestFirst(t *testing.T) {
	db := NewDB(copyFixture(t, "store-v2.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.RecentAlerts(2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Seq != 3 || got[1].Seq != 2 || got[0].Subject != "nt037" {
		t.Errorf("recent alerts %+v %+v, want seq 3 (nt037) then 2", got[0], got[1])
	}
}

// sameTaskState reads the stored JSON without decoding it; strings that
// look like its members do not fool it.
func TestSameTaskState(t *testing.T) {
	created := time.Date(2026, 3, 1, 9, 0, 0, 123, time.UTC)
	base := Task{TaskRef: TaskRef{Kind: TaskCRM, Subject: "nt1"}, CreatedAt: created}
	tricky := base
	tricky.LastError = `upstream said {"dead":true,"created_at":"2020-01-01T00:00:00Z"}`
	dead := base
	dead.Dead = true
	later := base
	later.CreatedAt = created.Add(time.Second)
	for _, tc := range []struct {
		name     string
		stored   Task
		now      Task
		wantSame bool
	}{
		{"unchanged", base, base, true},
		{"a string that looks like the members", tricky, base, true},
		{"dead-lettered", base, dead, false},
		{"revived", dead, base, false},
		{"recreated", base, later, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := json.Marshal(&tc.stored)
			if err != nil {
				t.Fatal(err)
			}
			if got := sameTaskState(v, &tc.now); got != tc.wantSame {
				t.Errorf("sameTaskState = %v, want %v (stored %s)", got, tc.wantSame, v)
			}
		})
	}
}
