package store

import (
	"encoding/json"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// A store written before the booking indexes existed (schema version 1, no
// index buckets) gets them built by the migration on the next Open.
func TestMigration_IndexesExistingBookings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notekeeper.db")
	db := NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Rewrite the file as version 1 wrote it: bookings, no indexes.
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketBookingsByNotetaker, bucketBookingsByEvent} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		for _, b := range []Booking{
			{ID: "bk-1", NotetakerID: "nt-1", EventID: "ev-1"},
			{ID: "bk-2", EventID: "ev-2"},
		} {
			v, _ := json.Marshal(b)
			if err := tx.Bucket(bucketBookings).Put([]byte(b.ID), v); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(1))
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}

	db = NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct{ name, notetaker, event, want string }{
		{"by notetaker", "nt-1", "", "bk-1"},
		{"by event", "nt-x", "ev-2", "bk-2"},
	} {
		b, err := db.BookingOf(tc.notetaker, tc.event)
		if err != nil || b.ID != tc.want {
			t.Errorf("%s: got %v, %v; want %s", tc.name, b, err, tc.want)
		}
	}
	mustBeMigrated(t, db)
}
