package datadir_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/datadir/datadirtest"
)

func TestWriteFileAtomic(t *testing.T) {
	t.Run("writes, replaces, leaves no temporary file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nt1")
		for _, content := range []string{"first\n", "second, longer\n"} {
			if err := datadir.WriteFileAtomic(dir, "transcript.txt", []byte(content)); err != nil {
				t.Fatal(err)
			}
			datadirtest.AssertFile(t, dir, "transcript.txt", []byte(content))
		}
		datadirtest.AssertOnly(t, dir, "transcript.txt")
	})
	t.Run("a failed rename leaves no temporary file", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "transcript.txt", "x"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := datadir.WriteFileAtomic(dir, "transcript.txt", []byte("x")); err == nil {
			t.Fatal("renamed over a non-empty directory")
		}
		datadirtest.AssertOnly(t, dir, "transcript.txt")
	})
	for _, name := range []string{"", ".", "..", "../x", "a/b", `a\b`, "a\x00b"} {
		t.Run("refuses name "+strings.ReplaceAll(name, "\x00", "NUL"), func(t *testing.T) {
			dir := t.TempDir()
			if err := datadir.WriteFileAtomic(dir, name, []byte("x")); err == nil {
				t.Fatal("written")
			}
			datadirtest.AssertOnly(t, dir)
		})
	}
}
