package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive/archivetest"
)

// searchScene stands in for Nylas: signed storage serving two meetings'
// transcripts and summaries, and the Events API answering their calendar
// events.
func searchScene(t *testing.T) (storage, api *httptest.Server) {
	t.Helper()
	files := map[string]string{
		"/acme/transcript.json": `{"object":"transcript","type":"speaker_labelled","transcript":[` +
			`{"speaker":"Sarah Kim","start":0,"end":4000,"text":"Thanks for joining."},` +
			`{"speaker":"Jo Park","start":4300,"end":9000,"text":"Procurement asked about the enterprise tier."}]}`,
		"/acme/summary.json": `{"summary":"Jo wants to renew for two years."}`,
		"/globex/transcript.json": `{"object":"transcript","type":"speaker_labelled","transcript":[` +
			`{"speaker":"Li Wu","start":0,"end":3000,"text":"Let us talk about the roadmap."}]}`,
		"/globex/summary.json": `{"summary":"Globex wants a zeppelin."}`,
	}
	storage = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	t.Cleanup(storage.Close)
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/events/evt-acme"):
			fmt.Fprint(w, `{"data":{"id":"evt-acme","title":"Acme renewal call","when":{"object":"timespan","start_time":1772463600,"end_time":1772465400},`+
				`"participants":[{"name":"Sarah Kim","email":"sarah@your-company.example"},{"name":"Jo Park","email":"jo@acme.example"}]}}`)
		case strings.HasSuffix(r.URL.Path, "/events/evt-globex"):
			fmt.Fprint(w, `{"data":{"id":"evt-globex","title":"Globex roadmap","participants":[{"name":"Li Wu","email":"li@globex.example"}]}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(api.Close)
	return storage, api
}

// searchHit is one line of `notekeeper search -json`.
type searchHit struct {
	NotetakerID string  `json:"notetaker_id"`
	Title       string  `json:"title"`
	StartsAt    string  `json:"starts_at"`
	Score       float64 `json:"score"`
	Snippet     string  `json:"snippet"`
	Speaker     string  `json:"speaker"`
}

// searchJSON runs `notekeeper search -json` and parses its lines.
func searchJSON(t *testing.T, config, q string) []searchHit {
	t.Helper()
	out := mustRunBin(t, "search", "-config", config, "-json", "-limit", "5", q)
	var hits []searchHit
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var h searchHit
		if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
			t.Fatalf("search -json line %q: %v", sc.Text(), err)
		}
		hits = append(hits, h)
	}
	return hits
}

// TestE2E_SearchExportReindex archives two meetings through the real
// binary, finds them with `notekeeper search` (through the daemon and
// without it), exports one and checks it with the real sha256sum, rebuilds
// the index with `notekeeper reindex`, and after a kill -9 with the index
// damaged, finds that the next start rebuilt it.
func TestE2E_SearchExportReindex(t *testing.T) {
	storage, api := searchScene(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := e2eConfig(dataDir)
	cfg = strings.Replace(cfg, "[nylas]\n", fmt.Sprintf("[nylas]\napi_base = %q\nallow_http_media = true\n", api.URL), 1)
	cfg = strings.Replace(cfg, "[archive]\n", "[archive]\nkinds = [\"transcript\", \"summary\"]\n", 1)
	config := writeConfig(t, cfg)

	d := startDaemon(t, config)
	for _, m := range []struct{ id, nt, dir, event string }{
		{"ntf-acme", "ntAcme1", "acme", "evt-acme"}, {"ntf-globex", "ntGlobex1", "globex", "evt-globex"},
	} {
		body, _ := json.Marshal(map[string]any{"specversion": "1.0", "type": "notetaker.media", "id": m.id, "time": time.Now().Unix(),
			"data": map[string]any{"object": map[string]any{"id": m.nt, "grant_id": "grant-1", "state": "available",
				"event": map[string]string{"event_id": m.event}, "media": map[string]string{
					"transcript": storage.URL + "/" + m.dir + "/transcript.json", "summary": storage.URL + "/" + m.dir + "/summary.json"}}}})
		if status, err := postNotification(http.DefaultClient, d.url, body); err != nil || status != 200 {
			t.Fatalf("post: %d %v", status, err)
		}
	}
	waitIdle(t, config, d)

	// Through the daemon: a transcript word, with its speaker and the
	// meeting's title and time from the calendar event.
	var hits []searchHit
	waitUntil(t, "the archived meetings to be searchable", func() bool {
		hits = searchJSON(t, config, "procurement")
		return len(hits) == 1
	})
	h := hits[0]
	if h.NotetakerID != "ntAcme1" || h.Title != "Acme renewal call" || h.StartsAt != "2026-03-02T15:00:00Z" || h.Score <= 0 ||
		!strings.Contains(h.Snippet, "Procurement") || h.Speaker != "Jo Park" {
		t.Fatalf("search hit %+v", h)
	}
	if hits := searchJSON(t, config, "zeppelin"); len(hits) != 1 || hits[0].NotetakerID != "ntGlobex1" {
		t.Fatalf("summary word: %+v", hits)
	}
	if hits := searchJSON(t, config, "jo@acme.example"); len(hits) != 1 || hits[0].NotetakerID != "ntAcme1" {
		t.Fatalf("participant e-mail: %+v", hits)
	}
	if out := mustRunBin(t, "search", "-config", config, "absentword"); !strings.Contains(out, "no meeting matches") {
		t.Fatalf("absent word: %s", out)
	}
	man, err := os.ReadFile(filepath.Join(dataDir, "media", "ntAcme1", "manifest.json"))
	if err != nil || !strings.Contains(string(man), `"title": "Acme renewal call"`) || !strings.Contains(string(man), `"starts_at": "2026-03-02T15:00:00Z"`) ||
		!strings.Contains(string(man), `"email": "jo@acme.example"`) {
		t.Fatalf("manifest.json:\n%s (%v)", man, err)
	}

	// Export, checked with the real sha256sum.
	export := filepath.Join(t.TempDir(), "acme.tar.gz")
	if out := mustRunBin(t, "export", "-config", config, "ntAcme1", "-o", export); !strings.Contains(out, "wrote "+export) {
		t.Fatalf("export: %s", out)
	}
	checkExportFile(t, export, "ntAcme1")
	if _, errOut, code := runBin(t, "export", "-config", config, "ntNoSuch", "-o", export+".2"); code == 0 || !strings.Contains(errOut, "not found") {
		t.Fatalf("export of an unknown meeting: exit %d %s", code, errOut)
	}

	if out := mustRunBin(t, "reindex", "-config", config); !strings.Contains(out, "search index rebuilt: 2 meetings") {
		t.Fatalf("reindex through the daemon: %s", out)
	}

	// kill -9, then damage the index: the next start rebuilds it.
	d.kill()
	segs, _ := filepath.Glob(filepath.Join(dataDir, "index", "store", "*.zap"))
	for _, s := range segs {
		os.WriteFile(s, []byte("torn"), 0o600)
	}
	os.WriteFile(filepath.Join(dataDir, "index", "store", "root.bolt"), []byte("torn"), 0o600)
	d = startDaemon(t, config)
	waitUntil(t, "the index rebuilt after kill -9", func() bool { return len(searchJSON(t, config, "procurement")) == 1 })
	if !strings.Contains(d.stderr.String(), "search index") {
		t.Fatalf("the log does not mention the index rebuild:\n%s", d.stderr)
	}
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}

	// Without a daemon the commands open the store and the index themselves.
	os.RemoveAll(filepath.Join(dataDir, "index"))
	if hits := searchJSON(t, config, "roadmap"); len(hits) != 1 || hits[0].NotetakerID != "ntGlobex1" {
		t.Fatalf("search without the daemon: %+v", hits)
	}
	if out := mustRunBin(t, "reindex", "-config", config); !strings.Contains(out, "search index rebuilt: 2 meetings") {
		t.Fatalf("reindex without the daemon: %s", out)
	}
	export2 := filepath.Join(t.TempDir(), "globex.tar.gz")
	mustRunBin(t, "export", "-config", config, "ntGlobex1", "-o", export2)
	checkExportFile(t, export2, "ntGlobex1")
}

// checkExportFile unpacks an export and runs `sha256sum -c` in it.
func checkExportFile(t *testing.T, path, id string) {
	t.Helper()
	needTool(t, "sha256sum", "apt-get install coreutils", func(tb testing.TB) string {
		p, err := exec.LookPath("sha256sum")
		if err != nil {
			tb.Skip("sha256sum is not installed")
		}
		return p
	})
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if report := archivetest.Check(t, f, id); !strings.Contains(report, "manifest.json: OK") {
		t.Fatalf("sha256sum -c:\n%s", report)
	}
}
