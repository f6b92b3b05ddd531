package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2E_OpsCLI runs the operator commands against a running daemon (over
// its socket) and then against the same data dir stopped (on the store).
func TestE2E_OpsCLI(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	config := writeE2EConfig(t, dataDir)
	d := startDaemon(t, config)
	for i := range 3 {
		if status, err := postNotification(http.DefaultClient, d.url, e2eNotification(fmt.Sprintf("ntf-ops-%d", i), i)); err != nil || status != 200 {
			t.Fatalf("post: %d %v", status, err)
		}
	}
	waitIdle(t, config, d)

	if fi, err := os.Stat(filepath.Join(dataDir, "notekeeper.sock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi, err)
	}
	if out := mustRunBin(t, "status", "-config", config); !strings.Contains(out, "running since") || !strings.Contains(out, "3 notifications") {
		t.Fatalf("status with the daemon:\n%s", out)
	}
	running := mustRunBin(t, "events", "-config", config, "-json")
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(running))
	for sc.Scan() {
		var e struct {
			ID         string    `json:"id"`
			Type       string    `json:"type"`
			ReceivedAt time.Time `json:"received_at"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Type != "notetaker.meeting_state" || e.ReceivedAt.IsZero() {
			t.Fatalf("events line %q: %v", sc.Text(), err)
		}
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "ntf-ops-0,ntf-ops-1,ntf-ops-2" {
		t.Fatalf("events: %v", ids)
	}
	if out := mustRunBin(t, "hold", "-config", config, "nt-1"); !strings.Contains(out, "legal hold set on nt-1") {
		t.Fatalf("hold: %s", out)
	}
	if out := mustRunBin(t, "verify", "-config", config); !strings.HasPrefix(out, "ok:") {
		t.Fatalf("verify: %s", out)
	}
	backup := filepath.Join(t.TempDir(), "backup.tar.gz")
	mustRunBin(t, "backup", "-config", config, "-o", backup)
	out, errOut, code := runBin(t, "restore", "-config", config, backup)
	if code != 1 || !strings.Contains(errOut, "running") {
		t.Fatalf("restore while running: exit %d\n%s%s", code, out, errOut)
	}

	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dataDir, "notekeeper.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left after stop: %v", err)
	}
	if out := mustRunBin(t, "status", "-config", config); !strings.Contains(out, "not running") || !strings.Contains(out, "3 notifications") {
		t.Fatalf("status without the daemon:\n%s", out)
	}
	if stopped := mustRunBin(t, "events", "-config", config, "-json"); stopped != running {
		t.Fatalf("events differ without the daemon:\n%s\nvs\n%s", stopped, running)
	}
	// A notification after the backup, then the restore takes it away.
	d = startDaemon(t, config)
	postNotification(http.DefaultClient, d.url, e2eNotification("ntf-after-backup", 9))
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	if out := mustRunBin(t, "restore", "-config", config, backup); !strings.Contains(out, "3 notifications") {
		t.Fatalf("restore: %s", out)
	}
	d = startDaemon(t, config)
	if after := mustRunBin(t, "events", "-config", config, "-json"); after != running {
		t.Fatalf("events after restore:\n%s\nwant:\n%s", after, running)
	}
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestE2E_ReplayNoDuplicateCRMRecord replays an archived, delivered
// meeting's notification through the running daemon and again while it is
// stopped: the CRM delivery runs again each time (it looks the meeting up)
// but there is exactly one CRM record, created by one POST.
func TestE2E_ReplayNoDuplicateCRMRecord(t *testing.T) {
	scene := newCRMScene(t)
	config := scene.config(t, filepath.Join(t.TempDir(), "data"))
	body := scene.available("ntf-replay-1", "ntReplay1", time.Now().Unix(), map[string]string{"summary": "/s.json"})
	crmState := scene.state

	// waitDelivery waits until the CRM delivery looked contacts up more
	// than before times and the queue is empty.
	waitDelivery := func(d *daemon, before int) int {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if n, _ := crmState(); n > before {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the CRM delivery did not run\n%s\n%s", mustRunBin(t, "tasks", "-config", config), d.stderr)
			}
			time.Sleep(10 * time.Millisecond)
		}
		waitIdle(t, config, d)
		n, _ := crmState()
		return n
	}

	d := startDaemon(t, config)
	if status, err := postNotification(http.DefaultClient, d.url, body); err != nil || status != 200 {
		t.Fatalf("post: %d %v", status, err)
	}
	seen := waitDelivery(d, 0)

	out := mustRunBin(t, "replay", "-config", config, "-id", "ntf-replay-1")
	if !strings.Contains(out, "replayed 1 notifications") || !strings.Contains(out, "1 CRM/ATS deliveries queued again") {
		t.Fatalf("replay: %s", out)
	}
	seen = waitDelivery(d, seen)
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}

	// Stopped: the replay is queued in the store and runs at the next start.
	out, errOut, code := runBin(t, "replay", "-config", config, "-since", "1h")
	if code != 0 || !strings.Contains(out, "replayed 1 notifications") || !strings.Contains(errOut, "not running") {
		t.Fatalf("replay without daemon: exit %d\n%s%s", code, out, errOut)
	}
	d = startDaemon(t, config)
	waitDelivery(d, seen)
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	if _, got := crmState(); len(got) != 1 || got[0] != "POST /api/meetings" {
		t.Fatalf("CRM writes %v, want exactly one POST", got)
	}
}
