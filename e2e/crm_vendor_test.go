package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/crm/crmtest"
)

// TestE2E_CRMVendorKillDuringCreate runs the real binary with [crm] type =
// "hubspot" against the HubSpot stand-in and SIGKILLs it while its meeting
// create is in flight: the stand-in holds the create's answer, the process
// dies, then the stand-in commits the record (HubSpot finished the create,
// nobody heard the answer). The restarted daemon must find that record by its
// marker and update it, ending with exactly one meeting.
func TestE2E_CRMVendorKillDuringCreate(t *testing.T) {
	scene := newCRMScene(t)
	hs := crmtest.NewHubSpot("pat-e2e")
	t.Cleanup(hs.Close)
	jo := hs.AddContact("jo@acme.example", "Jo Park", "Acme")
	deal := hs.AddDeal(jo, "Acme renewal")
	commit := hs.Knobs().HoldNextCreate()
	defer commit()

	crm := fmt.Sprintf("[crm]\nenabled = true\ntype = \"hubspot\"\nbase_url = %q\napi_key = \"pat-e2e\"\n", hs.URL())
	config := writeE2EMediaConfig(t, filepath.Join(t.TempDir(), "data"), scene.api.URL, "summary", "", crm)
	editFile(t, config, "[tasks]\n", "[tasks]\nlease = \"1s\"\nbackoff_base = \"100ms\"\nbackoff_max = \"1s\"\n")

	createsSent := func() int {
		n := 0
		for _, r := range hs.Knobs().Seen() {
			if r.Method == "POST" && r.URL == "/crm/v3/objects/meetings" {
				n++
			}
		}
		return n
	}
	d := startDaemon(t, config)
	body := scene.available("ntf-hs-1", "ntHs1", time.Now().Unix(), map[string]string{"summary": "/s.json"})
	if status, err := postNotification(http.DefaultClient, d.url, body); err != nil || status != 200 {
		t.Fatalf("post: %d %v", status, err)
	}
	waitUntil(t, "the meeting create in flight", func() bool { return createsSent() == 1 })
	d.kill()
	commit() // HubSpot finishes the create; its answer goes nowhere
	waitUntil(t, "the held create to commit", func() bool { return len(hs.Meetings()) == 1 })

	d = startDaemon(t, config)
	waitIdle(t, config, d)
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	ms := hs.Meetings()
	if len(ms) != 1 || ms[0].Marker != "ntHs1" || ms[0].DealID != deal || len(ms[0].ContactIDs) != 1 || ms[0].ContactIDs[0] != jo ||
		!strings.Contains(ms[0].Body, "Jo wants to renew.") {
		t.Fatalf("HubSpot holds %+v, want one meeting for ntHs1\n%s", ms, d.stderr)
	}
	if n := createsSent(); n != 1 {
		t.Fatalf("%d meeting creates sent, want 1 (the restart must find the record, not create again)", n)
	}
}

// editFile replaces the first old in the file at path with new.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), old) {
		t.Fatalf("edit %s: %v (or %q not there)", path, err, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}
