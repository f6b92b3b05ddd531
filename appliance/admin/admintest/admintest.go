// Package admintest drives the admin UI in Debian's Chromium for tests:
// finding the browser (CI=true fails without it, elsewhere the test is
// skipped), the screenshot directory, and a chromedp tab that answers HTTP
// Basic challenges the way a person's browser does.
package admintest

import (
	"os"
	"os/exec"
	"testing"
)

// ChromiumInstall is how to get the browser Chromium looks for.
const ChromiumInstall = "apt-get install chromium"

// Chromium finds Debian's chromium. Under CI (CI=true) a missing browser
// fails the test; elsewhere the test is skipped.
func Chromium(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("chromium is not installed (CI=true): " + ChromiumInstall)
	}
	tb.Skip("chromium is not installed (" + ChromiumInstall + "); the browser test runs in CI")
	return ""
}

// ArtifactsDir is where screenshots go: $NOTEKEEPER_ARTIFACTS, else a
// temporary directory (logged).
func ArtifactsDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("NOTEKEEPER_ARTIFACTS")
	if dir == "" {
		dir = tb.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("screenshots in %s", dir)
	return dir
}
