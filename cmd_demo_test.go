package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/demo"
	"github.com/notekeeper/notekeeper/appliance/demo/demotest"
)

// served is what the simulator serves for meeting m, keyed by archived file
// name: "bytes sha256".
func served(m *demo.Meeting) map[string]string {
	out := map[string]string{}
	for _, f := range m.Media() {
		sum := sha256.Sum256(f.Data)
		name := archive.FileName(f.Kind, "mp4", f.ContentType)
		out[name] = strconv.Itoa(len(f.Data)) + " " + hex.EncodeToString(sum[:])
	}
	return out
}

// countLines counts output lines starting with prefix (after indentation).
func countLines(out, prefix string) int {
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), prefix) {
			n++
		}
	}
	return n
}

func TestDemoOnce(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"demo", "-once"}, &stdout, &stderr); err != nil {
		t.Fatalf("demo -once: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	t.Log("\n" + out)

	files := demotest.Files(out)
	for _, m := range []*demo.Meeting{demo.Sales(), demo.Interview()} {
		got, want := files[m.NotetakerID], served(m)
		if len(got) != 5 || len(want) != 5 {
			t.Fatalf("%s: %d files listed, want the 5 served: %v", m.NotetakerID, len(got), got)
		}
		for name, w := range want {
			if got[name] != w {
				t.Errorf("%s/%s: listed %q, simulator served %q", m.NotetakerID, name, got[name], w)
			}
		}
	}
	counts := []struct {
		prefix string
		want   int
	}{
		{"POST /api/meetings ", 1},
		{"PATCH /api/meetings", 0},
		{"POST /api/interviews ", 1},
		{"POST /api/interview-recordings ", 1},
		{"GET /api/contacts/search?email=jo%40acme.example → 200", 1},
		{"notetaker.failed_entry " + demo.Lobby().NotetakerID + ": ", 1},
	}
	for _, c := range counts {
		if n := countLines(out, c.prefix); n != c.want {
			t.Errorf("%d lines start with %q, want %d", n, c.prefix, c.want)
		}
	}
	for _, want := range []string{
		`"Notes: Acme renewal call" to sarah@your-company.example (Idempotency-Key nt7Hq2LmZ)`,
		`"Notes: Interview with Dana Chen" to sarah@your-company.example (Idempotency-Key ntBk77Qe1)`,
		"  $ notekeeper nylas plan\n    + calendar grant-a1b2c3/primary: add Notetaker rules",
		"    + scheduler interviews: created cfg-",
		"    booking page interviews: https://book.nylas.com/your-company-interviews",
		"  $ notekeeper nylas plan\n    = calendar grant-a1b2c3/primary\n    = scheduler interviews\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo does not show %q", want)
		}
	}
	if !strings.Contains(out, "refused 1 expired link(s) with 403; notekeeper asked the media endpoint for fresh links 1 time(s)") {
		t.Error("the expired recording link was not refused and refreshed exactly once")
	}
	// -once: everything has stopped when the report is read, so it names
	// no URL of the appliance or the stand-ins, and no admin password.
	if strings.Contains(out, "http://127.0.0.1") || strings.Contains(out, "password: ") {
		t.Error("demo -once printed the URL or credentials of a server that has already stopped")
	}
	if !strings.Contains(out, "run `notekeeper demo` without -once to browse it") {
		t.Error("demo -once does not say how to get an admin UI that answers")
	}
	m := demotest.DataDirLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no data dir line")
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("data dir %s still there after -once (stat: %v)", m[1], err)
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDemo runs `notekeeper demo args…` in-process (without -once) until
// it prints "Serving until Ctrl-C.", failing the test if it returns before
// or does not get there within a minute. It returns the output so far and
// stop, which cancels the demo's context and returns what run returned
// (an error too if run does not return within 40 s); calling it again
// returns the same. The test's cleanup calls stop too, failing the test on
// an error, so the demo never outlives the test and always ends cleanly.
func startDemo(t *testing.T, args ...string) (out string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"demo"}, args...), &stdout, &stderr) }()
	stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				err = fmt.Errorf("%w\n%s", err, stderr.String())
			}
			return err
		case <-time.After(40 * time.Second):
			return errors.New("demo did not return within 40 s of its context being cancelled")
		}
	})
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stdout.String(), "Serving until Ctrl-C.") {
		select {
		case err := <-done:
			done <- err // for stop
			t.Fatalf("demo returned before serving: %v\n%s\n%s", err, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo did not finish its script\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return stdout.String(), stop
}

// Without -once the demo keeps serving until its context ends, then shuts
// down cleanly; -keep-data leaves the data dir with the archive.
func TestDemoServesUntilCancelledAndKeepsData(t *testing.T) {
	out, stop := startDemo(t, "-keep-data")
	admin := demotest.AdminLine.FindStringSubmatch(out)
	dir := demotest.DataDirLine.FindStringSubmatch(out)
	if admin == nil || dir == nil {
		t.Fatalf("output lacks the admin or data dir line:\n%s", out)
	}
	t.Cleanup(func() { os.RemoveAll(dir[1]) })
	base := strings.TrimSuffix(admin[1], "/admin/")
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz %d while serving", resp.StatusCode)
	}

	if err := stop(); err != nil {
		t.Fatalf("demo after cancel: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
	man, err := archive.ReadManifest(filepath.Join(dir[1], "media", demo.Sales().NotetakerID))
	if err != nil || len(man.Files) != 5 {
		t.Fatalf("kept data dir: manifest %v, %v", man, err)
	}
}

// TestDemoOnce_HubSpot: `demo -crm hubspot` runs the real HubSpot connector
// against the HubSpot stand-in: one meeting with both contacts, the deal and
// the company, and one task per action item.
func TestDemoOnce_HubSpot(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"demo", "-once", "-crm", "hubspot"}, &stdout, &stderr); err != nil {
		t.Fatalf("demo -once -crm hubspot: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	meeting := regexp.MustCompile(`(?m)^  meeting \d+ "Acme renewal call" marker nt7Hq2LmZ, contacts \[\d+ \d+\], deal \d+, company \d+$`)
	if !meeting.MatchString(out) || countLines(out, "meeting ") != 1 || countLines(out, "task ") != len(demo.Sales().ActionItems) {
		t.Fatalf("HubSpot holds the wrong records:\n%s", out)
	}
	if strings.Contains(out, "POST /api/meetings") {
		t.Fatal("the rest CRM stand-in was used")
	}
}
