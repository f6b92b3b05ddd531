// Package archivetest checks a meeting export (archive.Export) the way an
// auditor would: unpack the tar.gz, then run the real `sha256sum -c` on
// its SHA256SUMS.
package archivetest

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Unpack extracts the tar.gz read from r into a fresh temporary directory
// and returns it with the entry names in order. An entry that would land
// outside the directory fails the test.
func Unpack(tb testing.TB, r io.Reader) (string, []string) {
	tb.Helper()
	dir := tb.TempDir()
	gz, err := gzip.NewReader(r)
	if err != nil {
		tb.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return dir, names
		} else if err != nil {
			tb.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			tb.Fatalf("export entry %q escapes the folder", h.Name)
		}
		names = append(names, h.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			tb.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
}

// SHA256SumCheck runs `sha256sum -c --strict SHA256SUMS` in dir and returns
// its report; a failure fails the test. Without sha256sum the test is
// skipped (and fails under CI=true).
func SHA256SumCheck(tb testing.TB, dir string) string {
	tb.Helper()
	if _, err := exec.LookPath("sha256sum"); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("sha256sum is not installed (CI=true): apt-get install coreutils")
		}
		tb.Skip("sha256sum is not installed")
	}
	cmd := exec.Command("sha256sum", "-c", "--strict", "SHA256SUMS")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	return string(out)
}

// Check unpacks the export of Notetaker id read from r and runs
// SHA256SumCheck in its folder; it returns sha256sum's report.
func Check(tb testing.TB, r io.Reader, id string) string {
	tb.Helper()
	dir, names := Unpack(tb, r)
	for _, n := range names {
		if !strings.HasPrefix(n, id+"/") {
			tb.Fatalf("export entry %q is not under %s/", n, id)
		}
	}
	return SHA256SumCheck(tb, filepath.Join(dir, id))
}
