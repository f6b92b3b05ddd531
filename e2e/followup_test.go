package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/nylas/nylastest"
)

// TestFollowupSentOnceAcrossAKillAndAReplay: an archived meeting's notes go
// out in one e-mail through its grant (Idempotency-Key the Notetaker ID);
// neither a kill -9 and restart nor a replay of the meeting sends another.
func TestFollowupSentOnceAcrossAKillAndAReplay(t *testing.T) {
	binary(t)
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"summary":"Jo wants to renew with 20 more seats."}`))
	}))
	t.Cleanup(storage.Close)
	nyl := nylastest.New(t, "e2e-api-key")
	nyl.AddGrant("grant-1", "sarah@your-company.example", "google")
	nyl.AddEvent("grant-1", "evt-1", "primary", "Acme renewal call",
		"sarah@your-company.example", "Sarah Kim", "jo@acme.example", "Jo Park")
	config := writeE2EMediaConfig(t, filepath.Join(t.TempDir(), "data"), nyl.URL, "summary", "", "[followup]\nenabled = true\n")
	body, _ := json.Marshal(map[string]any{"specversion": "1.0", "type": "notetaker.media", "id": "ntf-fu-1", "time": time.Now().Unix(),
		"data": map[string]any{"object": map[string]any{"id": "ntFollow1", "grant_id": "grant-1", "state": "available",
			"event": map[string]string{"event_id": "evt-1"}, "media": map[string]string{"summary": storage.URL + "/s.json"}}}})

	d := startDaemon(t, config)
	if status, err := postNotification(http.DefaultClient, d.url, body); err != nil || status != 200 {
		t.Fatalf("post: %d %v", status, err)
	}
	waitUntil(t, "the follow-up e-mail", func() bool { return len(nyl.Messages()) > 0 })
	d.kill() // kill -9: its exit error says so

	d = startDaemon(t, config)
	mustRunBin(t, "replay", "-id", "ntf-fu-1", "-config", config)
	if status, err := postNotification(http.DefaultClient, d.url, body); err != nil || status != 200 { // a redelivery too
		t.Fatalf("post after restart: %d %v", status, err)
	}
	waitIdle(t, config, d)
	time.Sleep(300 * time.Millisecond) // let a second send show itself

	msgs := nyl.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d e-mails, want 1\n%s", len(msgs), d.stderr)
	}
	m := msgs[0]
	to := fmt.Sprint(m.Body["to"])
	if m.Grant != "grant-1" || m.IdempotencyKey != "ntFollow1" || m.Body["subject"] != "Notes: Acme renewal call" ||
		to != "[map[email:sarah@your-company.example]]" {
		t.Errorf("e-mail %+v, want the notes to the internal participant through grant-1", m)
	}
}
