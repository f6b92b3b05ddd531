// Package storetest opens real stores for tests.
package storetest

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/notekeeper/notekeeper/store"
)

// MustOpen opens a new store in a fresh temporary directory. On cleanup it
// runs bbolt's consistency check over the file, failing the test on any
// problem, and closes the store.
func MustOpen(tb testing.TB) *store.DB {
	tb.Helper()
	return MustOpenAt(tb, filepath.Join(tb.TempDir(), "notekeeper.db"))
}

// MustOpenAt is MustOpen for a given path, for tests that reopen a file.
func MustOpenAt(tb testing.TB, path string) *store.DB {
	tb.Helper()
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { MustClose(tb, db) })
	return db
}

// MustClose checks and closes db; closing twice is harmless.
func MustClose(tb testing.TB, db *store.DB) {
	tb.Helper()
	if err := db.Check(); errors.Is(err, store.ErrClosed) {
		return
	} else if err != nil {
		tb.Errorf("store consistency check: %v", err)
	}
	if err := db.Close(); err != nil {
		tb.Errorf("close store: %v", err)
	}
}
