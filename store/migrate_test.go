package store

import (
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestMigrations_RunOnceInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notekeeper.db")
	db := NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// A later release appends a migration: it must run exactly once, on the
	// next Open, and the recorded version must follow.
	runs := 0
	saved := migrations
	t.Cleanup(func() { migrations = saved })
	migrations = append(append([]func(*bolt.Tx) error(nil), saved...), func(tx *bolt.Tx) error {
		runs++
		return tx.Bucket(bucketMeta).Put([]byte("migrated"), []byte("yes"))
	})
	for range 2 {
		db = NewDB(path)
		if err := db.Open(); err != nil {
			t.Fatal(err)
		}
		err := db.view(func(tx *bolt.Tx) error {
			if v, _ := schemaVersion(tx); v != uint64(len(migrations)) {
				t.Errorf("schema version %d, want %d", v, len(migrations))
			}
			if string(tx.Bucket(bucketMeta).Get([]byte("migrated"))) != "yes" {
				t.Error("migration did not write")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	if runs != 1 {
		t.Fatalf("migration ran %d times, want 1", runs)
	}

	// A failing migration leaves the file at its old version.
	migrations = append(migrations, func(*bolt.Tx) error { return errors.New("nope") })
	db = NewDB(path)
	if err := db.Open(); err == nil {
		db.Close()
		t.Fatal("open with a failing migration succeeded")
	}
	migrations = migrations[:len(migrations)-1]

	// A binary older than the file refuses to open it.
	migrations = saved
	db = NewDB(path)
	if err := db.Open(); !errors.Is(err, ErrTooNew) {
		t.Fatalf("older binary: got %v, want ErrTooNew", err)
	}
}

func TestMigrations_CRMDeliveryLeavesStateBucket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notekeeper.db")
	db := NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	// A file written by a binary of schema version 1: the rest connector's
	// state under "crm/".
	err := db.update(func(tx *bolt.Tx) error {
		s := tx.Bucket(bucketState)
		s.Put([]byte("crm/nt1"), []byte(`{"record_id":"m1","hash":"h","unmatched":["x@y.example"],"delivered_at":"2026-05-04T15:00:00Z"}`))
		s.Put([]byte("crm/nt2"), []byte(`{"skipped":"no external participant"}`))
		s.Put([]byte("reconciled/g"), []byte(`"2026-05-04T15:00:00Z"`))
		tx.DeleteBucket(bucketCRMDelivery)
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d, err := db.CRMDelivery("nt1")
	if err != nil || d.RecordID != "m1" || d.Connector != "rest" || d.Hash != "h" || len(d.Unmatched) != 1 || d.DeliveredAt.IsZero() {
		t.Fatalf("nt1: %+v %v", d, err)
	}
	if d, err := db.CRMDelivery("nt2"); err != nil || d.Skipped != "no external participant" {
		t.Fatalf("nt2: %+v %v", d, err)
	}
	var v any
	if err := db.GetState("crm/nt1", &v); !errors.Is(err, ErrNotFound) {
		t.Fatalf("legacy value left behind: %v", err)
	}
	if err := db.GetState("reconciled/g", &v); err != nil {
		t.Fatalf("other state lost: %v", err)
	}
}
