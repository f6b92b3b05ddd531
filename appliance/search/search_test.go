package search_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/search"
)

// testMeeting is one meeting folder as the archiver leaves it.
type testMeeting struct {
	id, title    string
	startsAt     time.Time
	participants []archive.Participant
	summary      string
	actions      []string
	transcript   []string // transcript.txt lines
}

// write lays out the meeting's folder under dataDir/media.
func (m testMeeting) write(t testing.TB, dataDir string) {
	t.Helper()
	dir := filepath.Join(dataDir, "media", m.id)
	man := &archive.Manifest{NotetakerID: m.id, Title: m.title, StartsAt: archive.Stamp{Time: m.startsAt},
		Participants: m.participants, Files: map[string]archive.FileEntry{}}
	put := func(name, content string) {
		t.Helper()
		if err := datadir.WriteFileAtomic(dir, name, []byte(content)); err != nil {
			t.Fatal(err)
		}
		man.Files[name] = archive.FileEntry{Bytes: int64(len(content)), SHA256: "00", ContentType: "application/json", ArchivedAt: time.Now()}
	}
	if m.summary != "" {
		put("summary.json", fmt.Sprintf(`{"summary":%q}`, m.summary))
	}
	if m.actions != nil {
		var quoted []string
		for _, a := range m.actions {
			quoted = append(quoted, fmt.Sprintf("%q", a))
		}
		put("action_items.json", "["+strings.Join(quoted, ",")+"]")
	}
	if m.transcript != nil {
		if err := datadir.WriteFileAtomic(dir, "transcript.txt", []byte(strings.Join(m.transcript, "\n")+"\n")); err != nil {
			t.Fatal(err)
		}
	}
	if err := archive.WriteManifest(dir, man); err != nil {
		t.Fatal(err)
	}
}

// corpus is four meetings with words that occur in one place only.
func corpus() []testMeeting {
	day := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	return []testMeeting{{
		id: "ntAcme1", title: "Acme renewal call", startsAt: day,
		participants: []archive.Participant{{Name: "Jo Park", Email: "jo@acme.example"}, {Name: "Sarah Kim", Email: "sarah@your-company.example"}},
		summary:      "Jo wants to renew for two years, with a discount on seats.",
		actions:      []string{"Send the renewal quote", "Book a follow-up"},
		transcript: []string{
			"[00:00:00] Sarah Kim: Thanks for joining, Jo.",
			"[00:00:04] Jo Park: Happy to. We want to talk about the renewal terms.",
			"[00:01:10] Jo Park: Our procurement team asked about pricing for the enterprise tier.",
			"[00:02:30] Sarah Kim: I will send the numbers tomorrow.",
		},
	}, {
		id: "ntPricing2", title: "Pricing review", startsAt: day.Add(24 * time.Hour),
		participants: []archive.Participant{{Name: "Li Wu", Email: "li@globex.example"}},
		summary:      "Globex reviewed the new pricing page and the price of the pro plan.",
		transcript: []string{
			"[00:00:02] Li Wu: The pricing page is confusing.",
			"[00:00:09] Sarah Kim: Which part of the pricing?",
			"[00:00:15] Li Wu: The priced add-ons, mostly.",
		},
	}, {
		id: "ntDana3", title: "Interview with Dana Chen", startsAt: day.Add(-48 * time.Hour),
		participants: []archive.Participant{{Name: "Dana Chen", Email: "dana.chen@candidates.example"}},
		summary:      "Strong backend candidate; knows distributed queues.",
		transcript: []string{
			"[00:00:01] Sarah Kim: Tell me about a system you built.",
			"[00:00:06] Dana Chen: I built a sharded ingestion pipeline with idempotent consumers.",
		},
	}, {
		id: "ntPruned4", title: "Board prep", startsAt: day.Add(-72 * time.Hour),
		// retention pruned everything but the manifest
	}}
}

// openIndex opens an index over dataDir and waits for its start-up sync.
func openIndex(t *testing.T, dataDir string) (*search.Index, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	ix := search.New(dataDir)
	ix.Logger = slog.New(slog.NewTextHandler(&syncWriter{w: &log}, nil))
	if err := ix.Open(); err != nil {
		t.Fatal(err)
	}
	ix.Wait()
	t.Cleanup(func() { ix.Close() })
	return ix, &log
}

// syncWriter is a writer safe for the logger's goroutines.
type syncWriter struct{ w *bytes.Buffer }

func (s *syncWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

func mustSearch(t *testing.T, ix *search.Index, q string) *search.Results {
	t.Helper()
	res, err := ix.Search(context.Background(), q, 20, 0)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func ids(res *search.Results) []string {
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.NotetakerID)
	}
	return out
}

func newCorpus(t *testing.T) string {
	dataDir := t.TempDir()
	for _, m := range corpus() {
		m.write(t, dataDir)
	}
	return dataDir
}

func TestSearch_Finds(t *testing.T) {
	dataDir := newCorpus(t)
	ix, _ := openIndex(t, dataDir)
	cases := []struct {
		name, q     string
		want        []string // IDs, in order
		field       string   // of the first hit
		speaker, at string
		snippet     string // contained in the first hit's snippet
	}{
		{name: "transcript-only word", q: "procurement", want: []string{"ntAcme1"}, field: "transcript",
			speaker: "Jo Park", at: "00:01:10", snippet: "Our " + search.MarkStart + "procurement" + search.MarkEnd + " team"},
		{name: "summary-only word", q: "discount", want: []string{"ntAcme1"}, field: "summary", snippet: search.MarkStart + "discount" + search.MarkEnd},
		{name: "action item word", q: "quote", want: []string{"ntAcme1"}, field: "action_items"},
		{name: "participant e-mail", q: "dana.chen@candidates.example", want: []string{"ntDana3"}, field: "participants",
			snippet: search.MarkStart + "dana.chen@candidates.example" + search.MarkEnd},
		{name: "participant e-mail, other case", q: "Jo@Acme.Example", want: []string{"ntAcme1"}},
		{name: "participant name", q: "dana", want: []string{"ntDana3"}},
		{name: "title of a pruned meeting", q: "board", want: []string{"ntPruned4"}, field: "title"},
		{name: "better match first", q: "pricing", want: []string{"ntPricing2", "ntAcme1"}},
		{name: "stems", q: "consumer", want: []string{"ntDana3"}, field: "transcript", speaker: "Dana Chen"},
		{name: "every word must match", q: "pricing procurement", want: []string{"ntAcme1"}},
		{name: "absent word", q: "zeppelin", want: nil},
		{name: "stop words only", q: "the and of", want: nil},
		{name: "empty", q: "  ", want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := mustSearch(t, ix, tc.q)
			if fmt.Sprint(ids(res)) != fmt.Sprint(tc.want) || int(res.Total) != len(tc.want) {
				t.Fatalf("%q found %v (total %d), want %v", tc.q, ids(res), res.Total, tc.want)
			}
			if len(tc.want) == 0 {
				return
			}
			h := res.Hits[0]
			if tc.field != "" && h.Field != tc.field {
				t.Errorf("field %q, want %q (snippet %q)", h.Field, tc.field, h.Snippet)
			}
			if tc.field != "" && (h.Speaker != tc.speaker || tc.at != "" && h.At != tc.at) {
				t.Errorf("speaker %q at %q, want %q %q", h.Speaker, h.At, tc.speaker, tc.at)
			}
			if !strings.Contains(h.Snippet, tc.snippet) || !strings.Contains(h.Snippet, search.MarkStart) {
				t.Errorf("snippet %q lacks %q", h.Snippet, tc.snippet)
			}
			if h.Title == "" || h.StartsAt.IsZero() || h.Score <= 0 {
				t.Errorf("hit %+v lacks title, start or score", h)
			}
		})
	}
	t.Run("paging", func(t *testing.T) {
		res, err := ix.Search(context.Background(), "pricing", 1, 1)
		if err != nil || fmt.Sprint(ids(res)) != "[ntAcme1]" || res.Total != 2 {
			t.Fatalf("second page %v total %d, %v", ids(res), res.Total, err)
		}
	})
}

// Pruning (the folder keeps only its manifest) and new archives reach the
// index through Update; a folder that is gone is removed.
func TestSearch_Update(t *testing.T) {
	dataDir := newCorpus(t)
	ix, _ := openIndex(t, dataDir)
	dir := filepath.Join(dataDir, "media", "ntDana3")
	for _, name := range []string{"summary.json", "transcript.txt"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Update("ntDana3"); err != nil {
		t.Fatal(err)
	}
	if res := mustSearch(t, ix, "sharded"); res.Total != 0 {
		t.Fatalf("a pruned transcript is still found: %v", ids(res))
	}
	if res := mustSearch(t, ix, "dana"); fmt.Sprint(ids(res)) != "[ntDana3]" {
		t.Fatalf("a pruned meeting's participants are not found: %v", ids(res))
	}
	testMeeting{id: "ntNew5", title: "Roadmap sync", transcript: []string{"[00:00:00] Kai: The zeppelin launch slips."}}.write(t, dataDir)
	start := time.Now()
	if err := ix.Update("ntNew5"); err != nil {
		t.Fatal(err)
	}
	t.Logf("one update took %v", time.Since(start))
	if res := mustSearch(t, ix, "zeppelin"); fmt.Sprint(ids(res)) != "[ntNew5]" || res.Hits[0].Speaker != "Kai" {
		t.Fatalf("new meeting: %+v", res.Hits)
	}
	os.RemoveAll(filepath.Join(dataDir, "media", "ntNew5"))
	if err := ix.Update("ntNew5"); err != nil {
		t.Fatal(err)
	}
	if res := mustSearch(t, ix, "zeppelin"); res.Total != 0 {
		t.Fatalf("a removed meeting is still found")
	}
	if err := ix.Update("../etc"); err == nil {
		t.Fatal("an unsafe ID was accepted")
	}
}

// checkComplete proves the whole corpus is searchable.
func checkComplete(t *testing.T, ix *search.Index) {
	t.Helper()
	for q, want := range map[string]string{"procurement": "[ntAcme1]", "discount": "[ntAcme1]", "sharded": "[ntDana3]", "board": "[ntPruned4]"} {
		if got := fmt.Sprint(ids(mustSearch(t, ix, q))); got != want {
			t.Errorf("%q found %s, want %s", q, got, want)
		}
	}
	if n, err := ix.DocCount(); err != nil || n != 4 {
		t.Errorf("%d documents, %v; want 4", n, err)
	}
}

func TestSearch_Recovery(t *testing.T) {
	cases := []struct {
		name    string
		damage  func(t *testing.T, dataDir string)
		wantLog string
	}{
		{name: "index folder deleted", damage: func(t *testing.T, dataDir string) {
			os.RemoveAll(filepath.Join(dataDir, "index"))
		}, wantLog: "search index missing"},
		{name: "segment file truncated", damage: func(t *testing.T, dataDir string) {
			segs, _ := filepath.Glob(filepath.Join(dataDir, "index", "store", "*.zap"))
			if len(segs) == 0 {
				t.Fatal("no segment files")
			}
			for _, s := range segs {
				fi, _ := os.Stat(s)
				os.Truncate(s, fi.Size()/2)
			}
		}, wantLog: "search index"},
		{name: "segment file overwritten", damage: func(t *testing.T, dataDir string) {
			segs, _ := filepath.Glob(filepath.Join(dataDir, "index", "store", "*.zap"))
			for _, s := range segs {
				fi, _ := os.Stat(s)
				os.WriteFile(s, bytes.Repeat([]byte{0xa5}, int(fi.Size())), 0o600)
			}
		}, wantLog: "search index"},
		{name: "root file corrupt", damage: func(t *testing.T, dataDir string) {
			os.WriteFile(filepath.Join(dataDir, "index", "store", "root.bolt"), []byte("not a bolt file"), 0o600)
		}, wantLog: "search index damaged"},
		{name: "meta file missing", damage: func(t *testing.T, dataDir string) {
			os.Remove(filepath.Join(dataDir, "index", "index_meta.json"))
		}, wantLog: "search index"},
		{name: "meeting archived while down", damage: func(t *testing.T, dataDir string) {
			// The index is intact but lacks a meeting and has one too many.
			os.RemoveAll(filepath.Join(dataDir, "media", "ntDana3"))
		}, wantLog: "search index ready"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := newCorpus(t)
			ix, _ := openIndex(t, dataDir)
			checkComplete(t, ix)
			if tc.name == "meeting archived while down" {
				if err := ix.Update("ntDana3"); err != nil { // drops it from the index
					t.Fatal(err)
				}
			}
			if err := ix.Close(); err != nil {
				t.Fatal(err)
			}
			tc.damage(t, dataDir)
			if tc.name == "meeting archived while down" {
				for _, m := range corpus() {
					if m.id == "ntDana3" {
						m.write(t, dataDir)
					}
				}
			}
			ix2, log := openIndex(t, dataDir)
			checkComplete(t, ix2)
			if !strings.Contains(log.String(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, log)
			}
		})
	}
}

// TestSearch_KillDuringUpdates kills (SIGKILL) a process in the middle of
// indexing, then opens the index it left: whatever state the files are in,
// the reopened index finds every meeting.
func TestSearch_KillDuringUpdates(t *testing.T) {
	if os.Getenv("NOTEKEEPER_SEARCH_CHILD") != "" {
		return // the child is TestSearchChild
	}
	dataDir := newCorpus(t)
	for i := range 40 {
		testMeeting{id: fmt.Sprintf("ntBulk%02d", i), title: "Bulk meeting", transcript: []string{
			"[00:00:00] Bot: " + strings.Repeat("filler words about nothing much ", 200)}}.write(t, dataDir)
	}
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSearchChild$")
		cmd.Env = append(os.Environ(), "NOTEKEEPER_SEARCH_CHILD="+dataDir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(300+200*round) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if !strings.Contains(out.String(), "updating") {
			t.Logf("round %d: the child had not started updating:\n%s", round, out.String())
		}
	}
	ix, _ := openIndex(t, dataDir)
	for q, want := range map[string]string{"procurement": "[ntAcme1]", "sharded": "[ntDana3]", "board": "[ntPruned4]"} {
		if got := fmt.Sprint(ids(mustSearch(t, ix, q))); got != want {
			t.Errorf("%q found %s, want %s", q, got, want)
		}
	}
	if res := mustSearch(t, ix, "filler"); res.Total != 40 {
		t.Errorf("%d bulk meetings found, want 40", res.Total)
	}
}

// TestSearchChild is the process TestSearch_KillDuringUpdates kills: it
// opens the index and updates meetings until it dies.
func TestSearchChild(t *testing.T) {
	dataDir := os.Getenv("NOTEKEEPER_SEARCH_CHILD")
	if dataDir == "" {
		t.Skip("run by TestSearch_KillDuringUpdates")
	}
	ix := search.New(dataDir)
	if err := ix.Open(); err != nil {
		t.Fatal(err)
	}
	fmt.Println("updating")
	for i := 0; ; i++ {
		id := fmt.Sprintf("ntBulk%02d", i%40)
		// Touch the transcript so each update really rewrites the document.
		p := filepath.Join(dataDir, "media", id, "transcript.txt")
		now := time.Now()
		os.Chtimes(p, now, now)
		if err := ix.Update(id); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSearch_Rebuild(t *testing.T) {
	dataDir := newCorpus(t)
	ix, _ := openIndex(t, dataDir)
	var calls int
	st, err := ix.Rebuild(context.Background(), func(done, total int) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if st.Meetings != 4 || calls == 0 {
		t.Fatalf("rebuild %+v, %d progress calls", st, calls)
	}
	checkComplete(t, ix)
	if _, err := os.Stat(filepath.Join(dataDir, "index.new")); !os.IsNotExist(err) {
		t.Fatalf("index.new left behind: %v", err)
	}
	// The reindex command, without a daemon: Rebuild on an Index never opened.
	cold := search.New(dataDir)
	ix.Close()
	if _, err := cold.Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	checkComplete(t, cold)
	cold.Close()
}

// A second process cannot open an index the daemon holds: ErrLocked, and
// the index is left alone.
func TestSearch_Locked(t *testing.T) {
	dataDir := newCorpus(t)
	ix, _ := openIndex(t, dataDir)
	_ = ix
	other := search.New(dataDir)
	err := other.Open()
	if err == nil {
		other.Close()
		t.Skip("the lock is per process (flock): a second Open in the same process succeeds")
	}
	if !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v", err)
	}
	checkComplete(t, ix)
}

// With IdleClose the index lets go of its files when nobody searches, and
// the next search or update opens it again.
func TestSearch_IdleClose(t *testing.T) {
	dataDir := newCorpus(t)
	ix := search.New(dataDir)
	ix.IdleClose = 50 * time.Millisecond
	if err := ix.Open(); err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ix.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for ix.HoldsIndex() {
		if time.Now().After(deadline) {
			t.Fatal("the index is still open after IdleClose")
		}
		time.Sleep(10 * time.Millisecond)
	}
	checkComplete(t, ix) // reopens
	testMeeting{id: "ntLate6", title: "Late addition", summary: "A word: quokka."}.write(t, dataDir)
	for ix.HoldsIndex() {
		time.Sleep(10 * time.Millisecond)
	}
	if err := ix.Update("ntLate6"); err != nil {
		t.Fatal(err)
	}
	if res := mustSearch(t, ix, "quokka"); res.Total != 1 {
		t.Fatalf("after an update on an idle-closed index: %v", ids(res))
	}
}
