// Package datadirtest holds test assertions about files in the data dir,
// shared by the tests of the packages that write them (datadir, archive).
package datadirtest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// AssertFile checks that dir/name holds want, with mode 0600.
func AssertFile(t testing.TB, dir, name string, want []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, differ from the source's %d", name, len(got), len(want))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s mode %v, want 0600", name, fi.Mode().Perm())
	}
}

// AssertOnly checks that dir holds exactly the named files (none when dir
// does not exist).
func AssertOnly(t testing.TB, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("%s holds %q, want %q", dir, got, names)
	}
}
