package e2e

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestE2E_CRMOneRecordAcrossRedeliveriesAndRestart runs the real binary
// against stand-ins for the Nylas API, signed storage and a CRM: the same
// media notification three times, a restart, and the same notification again
// must leave exactly one CRM record and no further writes.
func TestE2E_CRMOneRecordAcrossRedeliveriesAndRestart(t *testing.T) {
	scene := newCRMScene(t)
	config := scene.config(t, filepath.Join(t.TempDir(), "data"))
	body := scene.available("ntf-crm-1", "ntCrm1", time.Now().Unix(), map[string]string{"summary": "/s.json"})
	written := func() []string {
		_, writes := scene.state()
		return writes
	}
	waitWrites := func(d *daemon) {
		deadline := time.Now().Add(30 * time.Second)
		for len(written()) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("no CRM record\n%s", d.stderr)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	d := startDaemon(t, config)
	for range 3 {
		if status, err := postNotification(http.DefaultClient, d.url, body); err != nil || status != 200 {
			t.Fatalf("post: %d %v", status, err)
		}
	}
	waitWrites(d)
	time.Sleep(300 * time.Millisecond) // let any duplicate show itself
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	before, _ := scene.state()

	// After a restart: a redelivery (a duplicate) and a second available
	// notification offering one more kind, which re-runs the archive and the
	// CRM delivery against the state the first process left.
	second := scene.available("ntf-crm-2", "ntCrm1", time.Now().Unix()+1, map[string]string{"summary": "/s.json", "thumbnail": "/t.png"})
	d = startDaemon(t, config)
	for _, b := range [][]byte{body, second} {
		if status, err := postNotification(http.DefaultClient, d.url, b); err != nil || status != 200 {
			t.Fatalf("post after restart: %d %v", status, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if lookups, _ := scene.state(); lookups > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CRM delivery did not run again after the restart\n%s", d.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	if got := written(); len(got) != 1 || got[0] != "POST /api/meetings" {
		t.Fatalf("CRM writes %v, want exactly one POST", got)
	}
}
