package archive_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
)

func TestManifest_RoundTripAndShape(t *testing.T) {
	dir := t.TempDir()
	if _, err := archive.ReadManifest(dir); !errors.Is(err, archive.ErrNoManifest) {
		t.Fatalf("missing manifest: %v", err)
	}
	at := time.Date(2026, 1, 22, 10, 0, 0, 0, time.UTC)
	m := &archive.Manifest{NotetakerID: "nt1", GrantID: "g1", EventID: "e1", DeletesAt: at.Add(14 * 24 * time.Hour),
		Files: map[string]archive.FileEntry{"recording.mp4": {Bytes: 3, SHA256: "abc", ContentType: "video/mp4", ArchivedAt: at}}}
	if err := archive.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	if generic["deletes_at"] != "2026-02-05T10:00:00Z" || generic["notetaker_id"] != "nt1" || generic["grant_id"] != "g1" || generic["event_id"] != "e1" {
		t.Fatalf("manifest %s", raw)
	}
	file := generic["files"].(map[string]any)["recording.mp4"].(map[string]any)
	for _, k := range []string{"bytes", "sha256", "content_type", "archived_at"} {
		if _, ok := file[k]; !ok {
			t.Fatalf("file entry lacks %s: %s", k, raw)
		}
	}
	got, err := archive.ReadManifest(dir)
	if err != nil || got.Files["recording.mp4"].SHA256 != "abc" || !got.DeletesAt.Equal(m.DeletesAt) {
		t.Fatalf("read back %+v %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "manifest.json")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
}

func TestVerifyFile_DetectsFlippedByte(t *testing.T) {
	dir := t.TempDir()
	st := newStorage(t, 10000)
	res, err := fetcher().Fetch(t.Context(), archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	e := archive.FileEntry{Bytes: res.Bytes, SHA256: res.SHA256}
	if err := archive.VerifyFile(dir, "recording.mp4", e); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "recording.mp4")
	b, _ := os.ReadFile(path)
	b[5000] ^= 1
	os.WriteFile(path, b, 0o600)
	if err := archive.VerifyFile(dir, "recording.mp4", e); !errors.Is(err, archive.ErrChecksum) {
		t.Fatalf("flipped byte: %v", err)
	}
}

func TestNames(t *testing.T) {
	ids := []struct {
		id   string
		safe bool
	}{
		{"nt7Hq2LmZ", true}, {"a", true}, {"A_b-9", true}, {strings.Repeat("a", 128), true},
		{"", false}, {"../x", false}, {"a/b", false}, {".hidden", false}, {"-flag", false}, {"_x", false},
		{strings.Repeat("a", 129), false}, {"é", false}, {"a b", false}, {"a\x00", false},
	}
	for _, tc := range ids {
		if archive.SafeID(tc.id) != tc.safe {
			t.Errorf("SafeID(%q) = %v", tc.id, !tc.safe)
		}
		if _, err := archive.MediaDir("/data", tc.id); (err == nil) != tc.safe {
			t.Errorf("MediaDir(%q): %v", tc.id, err)
		}
	}
	names := []struct{ kind, format, ct, want string }{
		{"recording", "mp4", "", "recording.mp4"},
		{"recording", "mp3", "video/mp4", "recording.mp3"},
		{"recording", "", "audio/mpeg", "recording.mp3"},
		{"recording", "../x", "video/webm", "recording.webm"},
		{"recording", "", "application/octet-stream", "recording.mp4"},
		{"thumbnail", "", "image/jpeg", "thumbnail.jpg"},
		{"thumbnail", "", "image/png; charset=x", "thumbnail.png"},
		{"transcript", "", "application/json", "transcript.json"},
		{"summary", "", "", "summary.json"},
		{"action_items", "", "", "action_items.json"},
	}
	for _, tc := range names {
		if got := archive.FileName(tc.kind, tc.format, tc.ct); got != tc.want {
			t.Errorf("FileName(%q, %q, %q) = %q, want %q", tc.kind, tc.format, tc.ct, got, tc.want)
		}
	}
}
