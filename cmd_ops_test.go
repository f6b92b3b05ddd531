package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/store"
)

// writeOpsConfig writes a config for dataDir whose secrets cannot be
// resolved here (an unset variable, a missing credential file): the operator
// commands must not need them.
func writeOpsConfig(t *testing.T, dataDir string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	cfg := fmt.Sprintf(`data_dir = %q
[nylas]
api_key = "env:NOTEKEEPER_TEST_UNSET_KEY"
webhook_secrets = ["file:%s/webhook-secret"]
`, dataDir, dataDir)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// seedStore fills a stopped data dir: two notifications with tasks, one
// dead-lettered, a Notetaker record, and one archived file.
func seedStore(t *testing.T, dataDir string) {
	t.Helper()
	db := store.NewDB(filepath.Join(dataDir, "notekeeper.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, typ := range []string{"notetaker.meeting_state", "notetaker.media"} {
		id := fmt.Sprintf("ntf-%d", i+1)
		body := fmt.Sprintf(`{"specversion":"1.0","type":%q,"id":%q,"time":1737504536,"data":{"object":{"id":"nt-1","state":"attending"}}}`, typ, id)
		if _, err := db.Ingest(context.Background(), &store.Ingest{
			Notification: store.Notification{ID: id, Type: typ, Body: []byte(body)},
			Tasks:        []store.TaskRef{{Kind: store.TaskNotetaker, Subject: "nt-1"}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	leased, _, _ := db.Lease(1, time.Minute)
	if err := db.Fail(leased[0], "permanent: the CRM said 400", time.Time{}); err != nil {
		t.Fatal(err)
	}
	db.UpdateNotetaker("nt-1", func(nt *store.Notetaker) error { nt.State = "attending"; return nil })
	if _, err := links.LoadKey(dataDir); err != nil {
		t.Fatal(err)
	}
	dir, _ := archive.MediaDir(dataDir, "nt-1")
	datadir.WriteFileAtomic(dir, "summary.json", []byte(`{"summary":"Jo wants to renew."}`))
	man := &archive.Manifest{NotetakerID: "nt-1", Files: map[string]archive.FileEntry{}}
	sum, n, _ := hashFile(filepath.Join(dir, "summary.json"))
	man.Files["summary.json"] = archive.FileEntry{Bytes: n, SHA256: sum, ContentType: "application/json", ArchivedAt: time.Now()}
	if err := archive.WriteManifest(dir, man); err != nil {
		t.Fatal(err)
	}
}

func hashFile(path string) (string, int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0, err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), int64(len(b)), nil
}

// runCmd runs one command line in-process and returns its output.
func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// TestOpsCommands_NoDaemon runs every operator command on a stopped data
// dir: the reads open the store read-only, the writes read-write.
func TestOpsCommands_NoDaemon(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	seedStore(t, dataDir)
	config := writeOpsConfig(t, dataDir)

	for _, tc := range []struct {
		name    string
		args    []string
		want    []string // substrings of stdout, in order
		notWant string
		wantErr bool
	}{
		{name: "status", args: []string{"status"}, want: []string{"not running", "2 notifications", "1 notetakers", "0 live, 1 dead-lettered"}},
		{name: "events table", args: []string{"events"}, want: []string{"RECEIVED", "notetaker.meeting_state", "ntf-1", "nt-1", "notetaker.media", "ntf-2"}},
		{name: "events by type", args: []string{"events", "-type", "notetaker.media"}, want: []string{"ntf-2"}},
		{name: "tasks", args: []string{"tasks"}, want: []string{"notetaker/nt-1", "dead", "permanent: the CRM said 400"}},
		{name: "failed tasks", args: []string{"tasks", "-failed"}, want: []string{"notetaker/nt-1"}},
		{name: "verify", args: []string{"verify"}, want: []string{"ok: 1 files in 1 meetings"}},
		{name: "hold", args: []string{"hold", "nt-1"}, want: []string{"legal hold set on nt-1"}},
		{name: "hold unknown", args: []string{"hold", "nt-nope"}, wantErr: true},
		{name: "retry unknown", args: []string{"retry", "notetaker/nope"}, wantErr: true},
		{name: "retry all failed", args: []string{"retry", "-all-failed"}, want: []string{"retried 1 dead-lettered tasks"}},
		{name: "failed tasks after retry", args: []string{"tasks", "-failed"}, want: []string{"KEY"}, notWant: "nt-1"},
		{name: "replay", args: []string{"replay", "-id", "ntf-1"}, want: []string{"replayed 1 notifications"}},
		{name: "replay since", args: []string{"replay", "-since", "1h"}, want: []string{"replayed 2 notifications"}},
		{name: "replay needs one selector", args: []string{"replay"}, wantErr: true},
		{name: "replay not both", args: []string{"replay", "-id", "x", "-since", "1h"}, wantErr: true},
		{name: "retry needs a key", args: []string{"retry"}, wantErr: true},
		{name: "backup needs -o", args: []string{"backup"}, wantErr: true},
		{name: "restore needs a file", args: []string{"restore"}, wantErr: true},
		{name: "bad since", args: []string{"events", "-since", "yesterday"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runCmd(t, append(append([]string{tc.args[0]}, "-config", config), tc.args[1:]...)...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v\n%s", err, tc.wantErr, out)
			}
			if tc.notWant != "" && strings.Contains(out, tc.notWant) {
				t.Fatalf("output has %q:\n%s", tc.notWant, out)
			}
			rest := out
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}

	// The writes landed: the hold is set and replay queued the task again.
	db := store.NewDB(filepath.Join(dataDir, "notekeeper.db"))
	db.ReadOnly = true
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if nt, _ := db.Notetaker("nt-1"); !nt.Hold {
		t.Fatal("hold not stored")
	}
	if task, err := db.Task("notetaker/nt-1"); err != nil || task.Dead || len(task.Refs) != 2 {
		t.Fatalf("task after retry and replay: %+v %v", task, err)
	}
}

func TestEventsJSON(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	seedStore(t, dataDir)
	out, _, err := runCmd(t, "events", "-config", writeOpsConfig(t, dataDir), "-json")
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		received, _ := e["received_at"].(string)
		if _, err := time.Parse(time.RFC3339Nano, received); err != nil || e["id"] == "" || e["type"] == "" {
			t.Fatalf("line %q lacks id, type or received_at", sc.Text())
		}
		lines++
	}
	if lines != 2 {
		t.Fatalf("%d lines, want 2:\n%s", lines, out)
	}
}

func TestVerifyCommand_FlippedByte(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	seedStore(t, dataDir)
	p := filepath.Join(dataDir, "media", "nt-1", "summary.json")
	b, _ := os.ReadFile(p)
	b[5] ^= 0x20
	os.WriteFile(p, b, 0o600)
	out, _, err := runCmd(t, "verify", "-config", writeOpsConfig(t, dataDir))
	var ee exitError
	if !errors.As(err, &ee) {
		t.Fatalf("verify: %v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(out, "nt-1/summary.json: mismatch") || !strings.Contains(out, "1 problems") {
		t.Fatalf("verify said:\n%s", out)
	}
}

// TestBackupRestoreCommands: backup -o on one data dir, restore into a
// fresh one: same notifications, tasks and records, same link key.
func TestBackupRestoreCommands(t *testing.T) {
	src := filepath.Join(t.TempDir(), "data")
	seedStore(t, src)
	srcConfig := writeOpsConfig(t, src)
	os.WriteFile(filepath.Join(src, "webhook-secret"), []byte("s3cret\n"), 0o600)
	file := filepath.Join(t.TempDir(), "out", "backup.tar.gz")
	if out, _, err := runCmd(t, "backup", "-config", srcConfig, "-o", file); err != nil || !strings.Contains(out, "wrote "+file) {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}
	dst := filepath.Join(t.TempDir(), "fresh")
	dstConfig := writeOpsConfig(t, dst)
	out, _, err := runCmd(t, "restore", "-config", dstConfig, file)
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	for _, cmd := range [][]string{{"events", "-json"}, {"tasks", "-json"}} {
		a, _, err1 := runCmd(t, append([]string{cmd[0], "-config", srcConfig}, cmd[1:]...)...)
		b, _, err2 := runCmd(t, append([]string{cmd[0], "-config", dstConfig}, cmd[1:]...)...)
		if err1 != nil || err2 != nil || a != b || a == "" {
			t.Fatalf("%v differs after restore (%v %v):\n%s\nvs\n%s", cmd, err1, err2, a, b)
		}
	}
	for _, name := range []string{"files.key", "webhook-secret"} {
		a, _ := os.ReadFile(filepath.Join(src, name))
		b, _ := os.ReadFile(filepath.Join(dst, name))
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Fatalf("%s differs after restore", name)
		}
	}
	db := store.NewDB(filepath.Join(dst, "notekeeper.db"))
	db.ReadOnly = true
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if nt, err := db.Notetaker("nt-1"); err != nil || nt.State != "attending" {
		t.Fatalf("record after restore: %+v %v", nt, err)
	}
}
