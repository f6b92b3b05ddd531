package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/nylas/nylastest"
	"github.com/notekeeper/notekeeper/store"
)

// nylasSideTables declares one calendar rule and one round-robin booking
// page for the stand-in's grants.
const nylasSideTables = `
[[calendar]]
grant = "grant-sales"
summary_instructions = "MEDDPICC headings."

[[scheduler]]
name = "interviews"
grant = "grant-recruiting"
slug = "acme-interviews"
conferencing = "Google Meet"
[[scheduler.participant]]
name = "Alice Recruiter"
email = "alice@your-company.example"
organizer = true
[[scheduler.participant]]
name = "Bob Engineer"
email = "bob@your-company.example"
[scheduler.notetaker]
enabled = true
`

// TestNylasSideCommands runs `nylas plan|apply|grants` and `bot join|cancel`
// of the built binary against the stand-in, first with no daemon, then
// while one holds the store.
func TestNylasSideCommands(t *testing.T) {
	binary(t) // skipped with -short
	nyl := nylastest.New(t, "e2e-api-key")
	nyl.AddGrant("grant-sales", "rep@your-company.example", "google")
	nyl.AddGrant("grant-recruiting", "recruiting@your-company.example", "google")
	nyl.AddCalendar("grant-sales", "rep@your-company.example", true)
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := e2eConfig(dataDir)
	cfg = strings.Replace(cfg, "[nylas]\n", fmt.Sprintf("[nylas]\napi_base = %q\ngrants = [\"grant-sales\", \"grant-recruiting\"]\n", nyl.URL), 1)
	config := writeConfig(t, cfg+nylasSideTables)

	// No daemon.
	out, errOut, code := runBin(t, "nylas", "plan", "-config", config)
	if code != 2 || !strings.Contains(out, "+ calendar grant-sales/primary") || !strings.Contains(out, "+ scheduler interviews: create") {
		t.Fatalf("plan on an empty account: exit %d\n%s%s", code, out, errOut)
	}
	if w := nyl.Writes(); len(w) != 0 {
		t.Fatalf("plan wrote %v", w)
	}
	out = mustRunBin(t, "nylas", "apply", "-config", config)
	if !strings.Contains(out, "booking page interviews: https://book.nylas.com/acme-interviews") {
		t.Errorf("apply:\n%s", out)
	}
	writes := len(nyl.Writes())
	mustRunBin(t, "nylas", "apply", "-config", config)
	if n := len(nyl.Writes()) - writes; n != 0 {
		t.Errorf("second apply wrote %d times", n)
	}
	if n := len(nyl.Configurations("grant-recruiting")); n != 1 {
		t.Errorf("%d configurations, want 1", n)
	}
	out = mustRunBin(t, "nylas", "grants", "-config", config)
	if !strings.Contains(out, "* grant-sales") || !strings.Contains(out, "* grant-recruiting") {
		t.Errorf("grants:\n%s", out)
	}

	// A daemon holds the store: the commands still work.
	d := startDaemon(t, config)
	id := cfgID(t, nyl)
	nyl.SetConfiguration(id, "availability.duration_minutes", 30)
	out, errOut, code = runBin(t, "nylas", "plan", "-config", config)
	if code != 2 || !strings.Contains(out, "~ scheduler interviews: duration_minutes 30 → 45") {
		t.Errorf("plan with drift, daemon running: exit %d\n%s%s", code, out, errOut)
	}
	mustRunBin(t, "nylas", "apply", "-config", config)
	if _, _, code = runBin(t, "nylas", "plan", "-config", config); code != 0 {
		t.Errorf("plan after apply: exit %d", code)
	}

	link := "https://meet.google.com/e2e-abcd-efg"
	botID := strings.TrimSpace(mustRunBin(t, "bot", "join", link, "-grant", "grant-sales", "-at", "30m", "-config", config))
	again := strings.TrimSpace(mustRunBin(t, "bot", "join", link, "-grant", "grant-sales", "-at", "31m", "-config", config))
	if botID == "" || again != botID || len(nyl.Notetakers()) != 1 {
		t.Errorf("two joins gave %q and %q, %d bots; want one bot", botID, again, len(nyl.Notetakers()))
	}
	if err := d.stop(t); err != nil {
		t.Fatalf("stop: %v\n%s", err, d.stderr)
	}
	db := store.NewDB(filepath.Join(dataDir, "notekeeper.db"))
	db.ReadOnly = true
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	nt, err := db.Notetaker(botID)
	db.Close()
	if err != nil || nt.GrantID != "grant-sales" || nt.MeetingLink != link {
		t.Errorf("the bot was not recorded through the daemon: %+v (%v)", nt, err)
	}
	out = mustRunBin(t, "bot", "cancel", botID, "-config", config)
	if !strings.Contains(out, "cancelled "+botID) {
		t.Errorf("cancel: %s", out)
	}
}

// cfgID is the ID of the stand-in's one configuration.
func cfgID(t *testing.T, nyl *nylastest.Server) string {
	t.Helper()
	cfgs := nyl.Configurations("grant-recruiting")
	if len(cfgs) != 1 {
		t.Fatalf("%d configurations", len(cfgs))
	}
	return cfgs[0]["id"].(string)
}
