package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/nylas/nylastest"
	"github.com/notekeeper/notekeeper/store"
)

// nylasSide is a config declaring one calendar and one booking page
// against a stand-in holding their grants.
func nylasSide(t *testing.T) (nyl *nylastest.Server, cfgPath, dataDir string) {
	t.Helper()
	nyl = nylastest.New(t, "test-key")
	nyl.AddGrant("g-sales", "rep@acme.example", "google")
	nyl.AddGrant("g-rec", "recruiting@acme.example", "microsoft")
	nyl.AddCalendar("g-sales", "rep@acme.example", true)
	dir := t.TempDir()
	dataDir = filepath.Join(dir, "data")
	os.MkdirAll(dataDir, 0o700)
	cfgPath = filepath.Join(dir, "config.toml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`data_dir = %q
[nylas]
api_base = %q
api_key = "test-key"
webhook_secrets = ["s"]
grants = ["g-sales", "g-rec"]

[[calendar]]
grant = "g-sales"
summary_instructions = "MEDDPICC headings."

[[scheduler]]
name = "interviews"
grant = "g-rec"
slug = "acme-interviews"
conferencing = "Microsoft Teams"
[[scheduler.participant]]
name = "Alice"
email = "alice@acme.example"
organizer = true
[[scheduler.participant]]
name = "Bob"
email = "bob@acme.example"
[scheduler.notetaker]
enabled = true
`, dataDir, nyl.URL)), 0o600)
	return nyl, cfgPath, dataDir
}

func runArgs(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestNylasPlanApply(t *testing.T) {
	nyl, cfg, dataDir := nylasSide(t)

	out, _, err := runArgs(t, "nylas", "plan", "-config", cfg)
	var es exitStatus
	if !errors.As(err, &es) || es != 2 {
		t.Fatalf("plan on an empty account: %v, want exit status 2", err)
	}
	if !strings.Contains(out, "+ calendar g-sales/primary: add Notetaker rules") || !strings.Contains(out, "+ scheduler interviews: create") {
		t.Errorf("plan:\n%s", out)
	}
	if len(nyl.Writes()) != 0 {
		t.Errorf("plan wrote %v", nyl.Writes())
	}

	out, _, err = runArgs(t, "nylas", "apply", "-config", cfg)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if !strings.Contains(out, "booking page interviews: https://book.nylas.com/acme-interviews") {
		t.Errorf("apply:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "nylas-configurations.json")); err != nil {
		t.Errorf("configuration ID not stored: %v", err)
	}
	writes := len(nyl.Writes())
	out, _, err = runArgs(t, "nylas", "apply", "-config", cfg)
	if err != nil || len(nyl.Writes()) != writes {
		t.Errorf("second apply: %v, %d writes:\n%s", err, len(nyl.Writes())-writes, out)
	}
	out, _, err = runArgs(t, "nylas", "plan", "-config", cfg)
	if err != nil || strings.Contains(out, "+") || strings.Contains(out, "~") {
		t.Errorf("plan after apply: %v\n%s", err, out)
	}

	nyl.SetCalendar("g-sales", "rep@acme.example", "notetaker.meeting_settings.leave_after_silence_seconds", 30)
	out, _, err = runArgs(t, "nylas", "plan", "-config", cfg)
	if !errors.As(err, &es) || !strings.Contains(out, "~ calendar g-sales/primary: leave_after_silence_seconds 30 → 300") {
		t.Errorf("plan after drift: %v\n%s", err, out)
	}

	out, _, err = runArgs(t, "nylas", "grants", "-config", cfg)
	if err != nil || !strings.Contains(out, "* g-sales") || !strings.Contains(out, "recruiting@acme.example") {
		t.Errorf("grants: %v\n%s", err, out)
	}
}

func TestNylasErrors(t *testing.T) {
	_, cfg, _ := nylasSide(t)
	bad := strings.Replace(readFile(t, cfg), `api_key = "test-key"`, `api_key = "wrong"`, 1)
	os.WriteFile(cfg, []byte(bad), 0o600)
	for _, args := range [][]string{{"nylas", "plan"}, {"nylas", "apply"}, {"nylas", "grants"}} {
		_, _, err := runArgs(t, append(args, "-config", cfg)...)
		var es exitStatus
		if err == nil || errors.As(err, &es) || !strings.Contains(err.Error(), "401") {
			t.Errorf("%v with a wrong key: %v, want a 401 error (exit 1)", args, err)
		}
	}
	if _, _, err := runArgs(t, "nylas", "destroy", "-config", cfg); err == nil {
		t.Error("unknown subcommand accepted")
	}
}

func TestBotCommands(t *testing.T) {
	nyl, cfg, dataDir := nylasSide(t)
	link := "https://teams.microsoft.com/l/meetup-join/abc"
	_, _, err := runArgs(t, "bot", "join", link, "-grant", "g-sales", "-at", "10m", "-name", "Ad-hoc")
	if err == nil {
		t.Fatal("join without -config found a config")
	}
	out, errOut, err := runArgs(t, "bot", "join", link, "-grant", "g-sales", "-at", "10m", "-name", "Ad-hoc", "-config", cfg)
	if err != nil {
		t.Fatalf("join: %v\n%s", err, errOut)
	}
	id := strings.TrimSpace(out)
	again, errOut, err := runArgs(t, "bot", "join", "-config", cfg, "-grant", "g-sales", "-at", "11m", link)
	if err != nil || strings.TrimSpace(again) != id || !strings.Contains(errOut, "already sent") {
		t.Errorf("second join: %q %v %s, want the same bot %s", again, err, errOut, id)
	}
	if n := len(nyl.Notetakers()); n != 1 {
		t.Errorf("%d bots, want 1", n)
	}
	db := store.NewDB(filepath.Join(dataDir, "notekeeper.db"))
	db.ReadOnly = true
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	nt, err := db.Notetaker(id)
	db.Close()
	if err != nil || nt.GrantID != "g-sales" || nt.MeetingLink != link || nt.State != "scheduled" {
		t.Errorf("recorded %+v (%v)", nt, err)
	}

	if _, _, err := runArgs(t, "bot", "leave", id, "-config", cfg); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("leave of a scheduled bot: %v, want 409", err)
	}
	out, _, err = runArgs(t, "bot", "cancel", id, "-config", cfg) // no -grant: each grant is tried
	if err != nil || !strings.Contains(out, "cancelled "+id) {
		t.Errorf("cancel: %v %q", err, out)
	}
	for _, args := range [][]string{{"bot", "join", "-config", cfg}, {"bot", "join", "http://x", "-config", cfg},
		{"bot", "join", link, "-at", "2001-01-01T00:00:00Z", "-config", cfg}, {"bot", "join", link, "-config", cfg}} {
		if _, _, err := runArgs(t, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
