package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestE2E_CRMOneRecordAcrossRedeliveriesAndRestart runs the real binary
// against stand-ins for the Nylas API, signed storage and a CRM: the same
// media notification three times, a restart, and the same notification again
// must leave exactly one CRM record and no further writes.
func TestE2E_CRMOneRecordAcrossRedeliveriesAndRestart(t *testing.T) {
	summary := []byte(`{"summary":"Jo wants to renew."}`)
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(summary)
	}))
	defer storage.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/events/") {
			fmt.Fprint(w, `{"data":{"title":"Acme renewal call","participants":[{"email":"sarah@your-company.example"},{"email":"jo@acme.example"}]}}`)
			return
		}
		http.NotFound(w, r)
	}))
	defer api.Close()
	var mu sync.Mutex
	var writes []string
	lookups := 0
	records := map[string]bool{}
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.URL.Path == "/api/contacts/search":
			lookups++
			fmt.Fprint(w, `{"results":[{"id":"c-jo","primary_deal_id":"d-1"}]}`)
		case r.Method == "GET" && r.URL.Path == "/api/meetings":
			if records["m1"] {
				fmt.Fprint(w, `{"results":[{"id":"m1"}]}`)
			} else {
				fmt.Fprint(w, `{"results":[]}`)
			}
		case r.Method == "POST" || r.Method == "PATCH":
			writes = append(writes, r.Method+" "+r.URL.Path)
			records["m1"] = true
			fmt.Fprint(w, `{"id":"m1"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer crm.Close()

	dataDir := filepath.Join(t.TempDir(), "data")
	config := writeE2EMediaConfig(t, dataDir, api.URL, "summary", "", e2eCRMTable(crm.URL))

	body, _ := json.Marshal(map[string]any{"specversion": "1.0", "type": "notetaker.media", "id": "ntf-crm-1", "time": time.Now().Unix(),
		"data": map[string]any{"object": map[string]any{"id": "ntCrm1", "grant_id": "grant-1", "state": "available",
			"event": map[string]string{"event_id": "evt-1"}, "media": map[string]string{"summary": storage.URL + "/s.json"}}}})
	written := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), writes...)
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
	mu.Lock()
	before := lookups
	mu.Unlock()

	// After a restart: a redelivery (a duplicate) and a second available
	// notification offering one more kind, which re-runs the archive and the
	// CRM delivery against the state the first process left.
	second, _ := json.Marshal(map[string]any{"specversion": "1.0", "type": "notetaker.media", "id": "ntf-crm-2", "time": time.Now().Unix() + 1,
		"data": map[string]any{"object": map[string]any{"id": "ntCrm1", "grant_id": "grant-1", "state": "available",
			"event": map[string]string{"event_id": "evt-1"},
			"media": map[string]string{"summary": storage.URL + "/s.json", "thumbnail": storage.URL + "/t.png"}}}})
	d = startDaemon(t, config)
	for _, b := range [][]byte{body, second} {
		if status, err := postNotification(http.DefaultClient, d.url, b); err != nil || status != 200 {
			t.Fatalf("post after restart: %d %v", status, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		ran := lookups > before
		mu.Unlock()
		if ran {
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
