package store

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// writeFixture regenerates testdata/store-v{N}.db (N the current schema
// version) from the code as it is:
//
//	go test ./store -run TestWriteFixture -write-fixture
//
// Commit the file; a later schema's migration test opens it. Files of
// older versions are kept as they were written, never regenerated.
var writeFixture = flag.Bool("write-fixture", false, "write testdata/store-v{N}.db with the current code")

// fixtureEpoch is the fixed clock the fixture is written with.
var fixtureEpoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func TestWriteFixture(t *testing.T) {
	if !*writeFixture {
		t.Skip("run with -write-fixture to regenerate testdata/store-v{N}.db")
	}
	path := filepath.Join("testdata", fmt.Sprintf("store-v%d.db", len(migrations)))
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	db := NewDB(path)
	now := fixtureEpoch
	db.Now = func() time.Time { return now }
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seedFixture(t, db, &now)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", path, fi.Size())
}

// seedFixture writes a small store with a bit of everything an index or a
// counter has to account for: notifications, Notetakers in every archive
// state, bookings, grants, live, leased and dead-lettered tasks, alerts. It
// uses only what every schema version has (Ingest, UpdateNotetaker,
// UpdateBooking, UpdateGrant, Enqueue, Lease, putTask) so it keeps compiling.
func seedFixture(t *testing.T, db *DB, now *time.Time) {
	t.Helper()
	ctx := context.Background()
	for i := range 200 {
		*now = now.Add(time.Second)
		nt := fmt.Sprintf("nt%03d", i%60)
		body := fmt.Sprintf(`{"id":"fx-%d","type":"notetaker.updated","data":{"object":{"id":%q}}}`, i, nt)
		if _, err := db.Ingest(ctx, &Ingest{
			Notification: Notification{ID: fmt.Sprintf("fx-%d", i), Type: "notetaker.updated", Body: []byte(body)},
			Tasks:        []TaskRef{{Kind: TaskNotetaker, Subject: nt}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	archived := func(at time.Time) map[string]ArchivedFile {
		return map[string]ArchivedFile{
			"recording":  {Name: "recording.mp4", Bytes: 1 << 20, SHA256: "ab", ArchivedAt: at},
			"transcript": {Name: "transcript.json", Bytes: 4096, SHA256: "cd", ArchivedAt: at},
		}
	}
	media := MediaLinks{URLs: map[string]string{"recording": "https://media.example/r", "transcript": "https://media.example/t"}, FetchedAt: *now, Source: "webhook"}
	for i := range 60 {
		id := fmt.Sprintf("nt%03d", i)
		_, err := db.UpdateNotetaker(id, func(nt *Notetaker) error {
			nt.GrantID = "grant-1"
			nt.State = "attending"
			switch {
			case i < 20: // archived, Nylas' deadline passed
				nt.MediaStatus, nt.Media = "available", media
				nt.AvailableAt = fixtureEpoch.Add(-30 * 24 * time.Hour)
				nt.DeletesAt = nt.AvailableAt.Add(14 * 24 * time.Hour)
				nt.Archived, nt.ArchiveDone = archived(nt.AvailableAt.Add(time.Hour)), true
			case i < 25: // archived, then pruned by retention
				nt.MediaStatus, nt.Media = "available", media
				nt.AvailableAt = fixtureEpoch.Add(-60 * 24 * time.Hour)
				nt.DeletesAt = nt.AvailableAt.Add(14 * 24 * time.Hour)
				nt.Archived, nt.ArchiveDone = archived(nt.AvailableAt.Add(time.Hour)), true
				nt.PrunedAt = fixtureEpoch.Add(-time.Hour)
			case i < 35: // available, not archived, deadline far
				nt.MediaStatus, nt.Media = "available", media
				nt.AvailableAt = fixtureEpoch.Add(-time.Hour)
				nt.DeletesAt = fixtureEpoch.Add(time.Duration(10+i) * 24 * time.Hour)
			case i < 40: // available, not archived, deadline close (at risk)
				nt.MediaStatus, nt.Media = "available", media
				nt.AvailableAt = fixtureEpoch.Add(-13 * 24 * time.Hour)
				nt.RetainedUntil = fixtureEpoch.Add(time.Duration(i-34) * time.Hour)
				nt.DeletesAt = nt.RetainedUntil
			case i < 43: // available with no deadline known (defaults apply)
				nt.MediaStatus, nt.Media = "available", media
				nt.AvailableAt = fixtureEpoch.Add(-time.Duration(i) * time.Hour)
			case i < 45: // media error, asked again
				nt.MediaStatus = "error"
				nt.ArchiveError = "media error"
			case i < 47: // refused id
				nt.MediaStatus, nt.Media = "available", media
				nt.ArchiveError = "Notetaker ID is not a safe path segment; nothing archived"
			case i < 50: // partly archived
				nt.MediaStatus, nt.Media = "available", media
				nt.AvailableAt = fixtureEpoch.Add(-2 * 24 * time.Hour)
				nt.DeletesAt = nt.AvailableAt.Add(14 * 24 * time.Hour)
				nt.Archived = map[string]ArchivedFile{"recording": archived(fixtureEpoch)["recording"]}
				nt.Hold = i == 49
			case i < 55: // still in the meeting
				nt.MediaStatus = "processing"
			default: // never joined, media deleted
				nt.State, nt.MediaStatus, nt.Deleted = "failed_entry", "deleted", true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		id := fmt.Sprintf("bk%d", i)
		if _, err := db.UpdateBooking(id, func(b *Booking) error {
			b.Status, b.NotetakerID, b.EventID, b.Title = "created", fmt.Sprintf("nt%03d", i), fmt.Sprintf("ev%d", i), "Interview"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.UpdateGrant("grant-1", func(g *Grant) error { g.Provider, g.Email = "google", "ops@example.com"; return nil }); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if err := db.Enqueue(TaskRef{Kind: TaskArchive, Subject: fmt.Sprintf("nt%03d", 25+i)}); err != nil {
			t.Fatal(err)
		}
	}
	// Some tasks leased (a crash mid-run), some retried later, some dead.
	if _, _, err := db.Lease(10, time.Minute); err != nil {
		t.Fatal(err)
	}
	err := db.update(func(tx *bolt.Tx) error {
		for i, ref := range []TaskRef{{TaskCRM, "nt001"}, {TaskCRM, "nt002"}, {TaskArchive, "nt044"}, {TaskATSRecording, "nt003"}} {
			if err := putTask(tx, &Task{TaskRef: ref, Refs: []uint64{uint64(i + 1)}, Gen: 1, Attempts: 8,
				NextRun: *now, LastError: "upstream said no", Dead: true, CreatedAt: *now, UpdatedAt: *now}); err != nil {
				return err
			}
		}
		return putTask(tx, &Task{TaskRef: TaskRef{TaskGrant, "grant-1"}, Gen: 1, Attempts: 2,
			NextRun: now.Add(time.Hour), LastError: "429", CreatedAt: *now, UpdatedAt: *now})
	})
	if err != nil {
		t.Fatal(err)
	}
	db.AlertSinks = 1
	for i := range 3 {
		if _, err := db.RaiseAlert(Alert{Kind: AlertArchiveAtRisk, Subject: fmt.Sprintf("nt%03d", 35+i), Message: "at risk"}); err != nil {
			t.Fatal(err)
		}
	}
}
