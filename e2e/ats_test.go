package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/ats/atstest"
)

// TestE2E_ATSKilledWhileCreateInFlight runs the real binary against a Lever
// stand-in that holds a create's answer: the daemon is killed (SIGKILL)
// while the interview or the meeting's note is being created, the stand-in
// then commits it, and after a restart the delivery finds it by its marker
// instead of creating a second one.
func TestE2E_ATSKilledWhileCreateInFlight(t *testing.T) {
	booking, err := os.ReadFile(filepath.Join("..", "appliance", "testdata", "fixtures", "booking-created.json"))
	if err != nil {
		t.Fatal(err)
	}
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"summary":"Dana knows Go well."}`))
	}))
	t.Cleanup(storage.Close)
	api := httptest.NewServer(http.NotFoundHandler()) // the Nylas API: the booking names its candidate
	t.Cleanup(api.Close)
	media := fmt.Sprintf(`{"specversion":"1.0","type":"notetaker.media","id":"ntf-media-1","time":%d,"data":{"object":`+
		`{"id":"ntBk77Qe1","grant_id":"grant-1","state":"available","event":{"event_id":"bk9evt2q8s"},"media":{"summary":%q}}}}`,
		time.Now().Unix(), storage.URL+"/summary.json")

	cases := []struct {
		name string
		// before posts what must exist before the held create; held posts
		// what triggers it.
		before, held [][]byte
		count        func(l *atstest.Lever) int
	}{
		{"interview", nil, [][]byte{booking}, func(l *atstest.Lever) int { return len(l.Interviews()) }},
		{"note", [][]byte{booking}, [][]byte{[]byte(media)}, func(l *atstest.Lever) int { return len(l.Notes()) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lever := atstest.NewLever("lever-key")
			t.Cleanup(lever.Close)
			table := fmt.Sprintf("[ats]\nenabled = true\ntype = \"lever\"\nbase_url = %q\napi_key = \"lever-key\"\nuser_id = \"c4a1e1d2-0f9b-4d7e-b6a5-3e2d1c0b9a08\"\n",
				lever.URL+"/v1")
			config := writeE2EMediaConfig(t, filepath.Join(t.TempDir(), "data"), api.URL, "summary", "", table)
			post := func(d *daemon, bodies [][]byte) {
				for _, b := range bodies {
					if status, err := postNotification(http.DefaultClient, d.url, b); err != nil || status != 200 {
						t.Fatalf("post: %d %v\n%s", status, err, d.stderr)
					}
				}
			}

			d := startDaemon(t, config)
			post(d, tc.before)
			if tc.before != nil {
				waitIdle(t, config, d)
			}
			before, creates := tc.count(lever), lever.Creates()
			held, commit := lever.Hold()
			post(d, tc.held)
			select {
			case <-held:
			case <-time.After(30 * time.Second):
				t.Fatalf("the create never reached the ATS\n%s", d.stderr)
			}
			d.kill()
			commit() // the ATS commits after the process died: its answer is lost
			waitUntil(t, "the held create to commit", func() bool { return tc.count(lever) == before+1 })

			d = startDaemon(t, config)
			waitIdle(t, config, d)
			time.Sleep(200 * time.Millisecond) // let a duplicate show itself
			if err := d.stop(t); err != nil {
				t.Fatal(err)
			}
			if n := tc.count(lever); n != before+1 || lever.Creates() != creates+1 {
				t.Fatalf("%d %ss in the ATS after the restart, want %d\n%s", n, tc.name, before+1, d.stderr)
			}
			if tc.name == "note" {
				if n := lever.Notes()[0].Text; !strings.Contains(n, "Dana knows Go well.") || !strings.Contains(n, "notekeeper:notetaker=ntBk77Qe1") {
					t.Fatalf("note %q", n)
				}
			}
		})
	}
}
