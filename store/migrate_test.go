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
