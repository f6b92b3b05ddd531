package datadir_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/datadir"
)

func TestWriteFileAtomic(t *testing.T) {
	t.Run("writes, replaces, leaves no temporary file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nt1")
		for _, content := range []string{"first\n", "second, longer\n"} {
			if err := datadir.WriteFileAtomic(dir, "transcript.txt", []byte(content)); err != nil {
				t.Fatal(err)
			}
			assertFile(t, dir, "transcript.txt", []byte(content))
		}
		assertOnly(t, dir, "transcript.txt")
	})
	t.Run("a failed rename leaves no temporary file", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "transcript.txt", "x"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := datadir.WriteFileAtomic(dir, "transcript.txt", []byte("x")); err == nil {
			t.Fatal("renamed over a non-empty directory")
		}
		assertOnly(t, dir, "transcript.txt")
	})
	for _, name := range []string{"", ".", "..", "../x", "a/b", `a\b`, "a\x00b"} {
		t.Run("refuses name "+strings.ReplaceAll(name, "\x00", "NUL"), func(t *testing.T) {
			dir := t.TempDir()
			if err := datadir.WriteFileAtomic(dir, name, []byte("x")); err == nil {
				t.Fatal("written")
			}
			assertOnly(t, dir)
		})
	}
}

// assertFile checks dir/name holds want, mode 0600.
func assertFile(t *testing.T, dir, name string, want []byte) {
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

// assertOnly checks that dir holds exactly the named files.
func assertOnly(t *testing.T, dir string, names ...string) {
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
