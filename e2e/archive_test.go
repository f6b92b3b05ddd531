package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowReader hands out at most 64 KiB per Read, sleeping before each while
// slow is set, so a download can be killed part-way.
type slowReader struct {
	*bytes.Reader
	slow *atomic.Bool
}

func (r slowReader) Read(p []byte) (int, error) {
	if r.slow.Load() {
		time.Sleep(5 * time.Millisecond)
	}
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	return r.Reader.Read(p)
}

func TestE2E_Kill9DuringDownloadResumes(t *testing.T) {
	recording := make([]byte, 48<<20)
	for i := range recording {
		recording[i] = byte(i*31) ^ byte(i>>16)
	}
	sum := sha256.Sum256(recording)
	want := hex.EncodeToString(sum[:])

	var slow atomic.Bool
	slow.Store(true)
	var mu sync.Mutex
	var ranges []string
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("storage request carries Authorization")
		}
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		mu.Unlock()
		w.Header().Set("Content-Type", "video/mp4")
		http.ServeContent(w, r, "rec.mp4", time.Time{}, slowReader{bytes.NewReader(recording), &slow})
	}))
	defer storage.Close()
	api := recordingMediaAPI(t, storage.URL, len(recording)) // fresh links, should the daemon ask

	dataDir := filepath.Join(t.TempDir(), "data")
	config := writeE2EMediaConfig(t, dataDir, api.URL, "recording", "", "")

	d := startDaemon(t, config)
	body := []byte(fmt.Sprintf(`{"specversion":"1.0","type":"notetaker.media","id":"ntf-big-1","time":%d,"data":{"object":`+
		`{"id":"ntBig1","grant_id":"grant-e2e","state":"available","media":{"recording":%q,"recording_file_format":"mp4"}}}}`,
		time.Now().Unix(), storage.URL+"/rec.mp4"))
	if status, err := postNotification(http.DefaultClient, d.url, body); err != nil || status != 200 {
		t.Fatalf("post: %d %v", status, err)
	}

	dir := filepath.Join(dataDir, "media", "ntBig1")
	partial := filepath.Join(dir, ".recording.mp4.partial")
	final := filepath.Join(dir, "recording.mp4")
	deadline := time.Now().Add(30 * time.Second)
	for {
		fi, err := os.Stat(partial)
		if err == nil && fi.Size() > 2<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("download never got going\n%s", d.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	d.kill()
	if _, err := os.Stat(final); err == nil {
		t.Fatal("a torn file stands under the final name after kill -9")
	}
	fi, err := os.Stat(partial)
	if err != nil {
		t.Fatalf("partial file gone after kill -9: %v", err)
	}
	t.Logf("killed with %d of %d bytes downloaded", fi.Size(), len(recording))

	slow.Store(false)
	d = startDaemon(t, config)
	deadline = time.Now().Add(60 * time.Second)
	for {
		raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err == nil && bytes.Contains(raw, []byte(want)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("archive not completed after restart\n%s", d.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got, err := os.ReadFile(final)
	if err != nil {
		t.Fatal(err)
	}
	if s := sha256.Sum256(got); hex.EncodeToString(s[:]) != want {
		t.Fatal("archived recording differs from the source")
	}
	if _, err := os.Stat(partial); err == nil {
		t.Fatal("partial left after completion")
	}
	mu.Lock()
	resumed := len(ranges) >= 2 && strings.HasPrefix(ranges[len(ranges)-1], "bytes=")
	mu.Unlock()
	if !resumed {
		t.Fatalf("restart did not resume with Range: %q", ranges)
	}
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
}
