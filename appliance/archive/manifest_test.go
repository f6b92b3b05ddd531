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
	"github.com/notekeeper/notekeeper/appliance/datadir/datadirtest"
)

// wantManifest is the documented manifest.json, byte for byte, for sampleManifest.
const wantManifest = `{
  "notetaker_id": "nt7Hq2LmZ",
  "grant_id": "grant-a1b2c3",
  "event_id": "7kq2c1vdd0l3o9n3h2",
  "deletes_at": "2026-02-05T10:00:00Z",
  "title": "Acme renewal call",
  "starts_at": "2026-01-22T09:00:00Z",
  "ends_at": "2026-01-22T09:30:00Z",
  "participants": [
    {
      "name": "Jo Park",
      "email": "jo@acme.example"
    }
  ],
  "files": {
    "recording.mp4": {
      "bytes": 52428800,
      "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "content_type": "video/mp4",
      "archived_at": "2026-01-22T10:03:12Z"
    },
    "transcript.json": {
      "bytes": 348,
      "sha256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
      "content_type": "application/json",
      "archived_at": "2026-01-22T10:03:13Z"
    }
  }
}
`

func sampleManifest() *archive.Manifest {
	cet := time.FixedZone("CET", 3600)
	return &archive.Manifest{
		NotetakerID: "nt7Hq2LmZ", GrantID: "grant-a1b2c3", EventID: "7kq2c1vdd0l3o9n3h2",
		DeletesAt:    time.Date(2026, 2, 5, 11, 0, 0, 0, cet), // written as UTC
		Title:        "Acme renewal call",
		StartsAt:     archive.Stamp{Time: time.Date(2026, 1, 22, 10, 0, 0, 500, cet)},
		EndsAt:       archive.Stamp{Time: time.Date(2026, 1, 22, 9, 30, 0, 0, time.UTC)},
		Participants: []archive.Participant{{Name: "Jo Park", Email: "jo@acme.example"}},
		Files: map[string]archive.FileEntry{
			"transcript.json": {Bytes: 348, SHA256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
				ContentType: "application/json", ArchivedAt: time.Date(2026, 1, 22, 10, 3, 13, 999_000_000, time.UTC)},
			"recording.mp4": {Bytes: 52428800, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
				ContentType: "video/mp4", ArchivedAt: time.Date(2026, 1, 22, 10, 3, 12, 0, time.UTC)},
		},
	}
}

func TestManifest_WriteIsSpecShape(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "media", "nt7Hq2LmZ")
	m := sampleManifest()
	if err := archive.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != wantManifest {
		t.Fatalf("manifest.json:\n%s\nwant:\n%s", raw, wantManifest)
	}
	// The same, read as an outside script would.
	var generic struct {
		NotetakerID string `json:"notetaker_id"`
		DeletesAt   string `json:"deletes_at"`
		Files       map[string]map[string]any
	}
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	if _, err := time.Parse(time.RFC3339, generic.DeletesAt); err != nil {
		t.Fatalf("deletes_at: %v", err)
	}
	for name, e := range generic.Files {
		if _, err := time.Parse(time.RFC3339, e["archived_at"].(string)); err != nil {
			t.Fatalf("%s archived_at: %v", name, err)
		}
	}
	if m.DeletesAt.Location().String() != "CET" || m.Files["transcript.json"].ArchivedAt.Nanosecond() == 0 {
		t.Fatal("WriteManifest modified its argument")
	}
	if fi, _ := os.Stat(filepath.Join(dir, "manifest.json")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("manifest mode %v", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", fi.Mode().Perm())
	}
	datadirtest.AssertOnly(t, dir, "manifest.json")
}

func TestManifest_RoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := archive.ReadManifest(dir); !errors.Is(err, archive.ErrNoManifest) {
		t.Fatalf("missing manifest: %v, want ErrNoManifest", err)
	}
	if _, err := archive.ReadManifest(filepath.Join(dir, "no-such-folder")); !errors.Is(err, archive.ErrNoManifest) {
		t.Fatalf("missing folder: %v, want ErrNoManifest", err)
	}
	m := sampleManifest()
	if err := archive.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	// Overwrite with a changed manifest: the new one wins, nothing else is left.
	m.Files["summary.json"] = archive.FileEntry{Bytes: 1, SHA256: "ab", ContentType: "application/json", ArchivedAt: time.Now()}
	if err := archive.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	got, err := archive.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.NotetakerID != m.NotetakerID || got.GrantID != m.GrantID || got.EventID != m.EventID ||
		!got.DeletesAt.Equal(m.DeletesAt) || len(got.Files) != 3 {
		t.Fatalf("read back %+v", got)
	}
	if e := got.Files["recording.mp4"]; e != m.Files["recording.mp4"] {
		t.Fatalf("recording entry %+v, want %+v", e, m.Files["recording.mp4"])
	}
	if e := got.Files["transcript.json"]; !e.ArchivedAt.Equal(time.Date(2026, 1, 22, 10, 3, 13, 0, time.UTC)) {
		t.Fatalf("archived_at %v, want it truncated to the second", e.ArchivedAt)
	}
	datadirtest.AssertOnly(t, dir, "manifest.json")
}

func TestManifest_Edges(t *testing.T) {
	cases := []struct {
		name    string
		m       *archive.Manifest
		want    []string // substrings of the written JSON
		notWant []string
		wantErr bool
	}{
		{name: "unknown deletes_at is kept, nil files is {}", m: &archive.Manifest{NotetakerID: "nt1"},
			want: []string{`"files": {}`, `"grant_id": ""`, `"event_id": ""`, `"deletes_at": "0001-01-01T00:00:00Z"`}},
		{name: "unsafe file name refused", m: &archive.Manifest{NotetakerID: "nt1",
			Files: map[string]archive.FileEntry{"../escape": {}}}, wantErr: true},
		{name: "hidden file name refused", m: &archive.Manifest{NotetakerID: "nt1",
			Files: map[string]archive.FileEntry{".recording.mp4.partial": {}}}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			err := archive.WriteManifest(dir, tc.m)
			if tc.wantErr {
				if err == nil {
					t.Fatal("written")
				}
				datadirtest.AssertOnly(t, dir)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
			for _, w := range tc.want {
				if !strings.Contains(string(raw), w) {
					t.Errorf("manifest lacks %s:\n%s", w, raw)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(string(raw), w) {
					t.Errorf("manifest has %s:\n%s", w, raw)
				}
			}
			got, err := archive.ReadManifest(dir)
			if err != nil || got.Files == nil || !got.DeletesAt.IsZero() {
				t.Fatalf("read back %+v %v", got, err)
			}
		})
	}
}

func TestReadManifest_Corrupt(t *testing.T) {
	cases := []struct{ name, content string }{
		{"truncated", `{"notetaker_id":"nt1","files":{`},
		{"not JSON", "manifest"},
		{"wrong type", `{"files":[]}`},
		{"bad time", `{"deletes_at":"next week","files":{}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(tc.content), 0o600)
			_, err := archive.ReadManifest(dir)
			if err == nil || errors.Is(err, archive.ErrNoManifest) {
				t.Fatalf("error %v, want a corruption error", err)
			}
		})
	}
}

func TestVerifyFile(t *testing.T) {
	content := pattern(100 << 10)
	st := newStorage(t, len(content))
	dir := t.TempDir()
	res, err := fetcher().Fetch(t.Context(), archive.Request{URL: st.url(), Dir: dir, Name: "recording.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	entry := archive.FileEntry{Bytes: res.Bytes, SHA256: res.SHA256, ContentType: res.ContentType}
	path := filepath.Join(dir, "recording.mp4")
	cases := []struct {
		name   string
		damage func(t *testing.T)
		name2  string // file verified; default recording.mp4
		want   error  // nil: verifies
	}{
		{name: "intact", damage: func(*testing.T) {}},
		{name: "flipped byte", damage: func(t *testing.T) {
			b, _ := os.ReadFile(path)
			b[50<<10] ^= 0x01
			os.WriteFile(path, b, 0o600)
		}, want: archive.ErrChecksum},
		{name: "truncated", damage: func(t *testing.T) { os.Truncate(path, 10) }, want: archive.ErrChecksum},
		{name: "appended", damage: func(t *testing.T) {
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			f.Write([]byte{0})
			f.Close()
		}, want: archive.ErrChecksum},
		{name: "missing", damage: func(t *testing.T) { os.Remove(path) }, want: os.ErrNotExist},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			tc.damage(t)
			err := archive.VerifyFile(dir, "recording.mp4", entry)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("VerifyFile: %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("unsafe name", func(t *testing.T) {
		if err := archive.VerifyFile(dir, "../recording.mp4", entry); err == nil || errors.Is(err, archive.ErrChecksum) {
			t.Fatalf("VerifyFile: %v", err)
		}
	})
}

// An unknown meeting is written with empty values, not left out (docs/archive.md),
// and reads back as zero.
func TestManifest_UnknownMeetingIsEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := archive.WriteManifest(dir, &archive.Manifest{NotetakerID: "nt1"}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"title": ""`, `"starts_at": ""`, `"ends_at": ""`, `"participants": []`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("manifest lacks %s:\n%s", want, raw)
		}
	}
	m, err := archive.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !m.StartsAt.IsZero() || !m.EndsAt.IsZero() || m.Title != "" || len(m.Participants) != 0 {
		t.Fatalf("read back %+v", m)
	}
	// A manifest written before these fields existed reads the same.
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"notetaker_id":"nt1","files":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if m, err = archive.ReadManifest(dir); err != nil || !m.StartsAt.IsZero() {
		t.Fatalf("old manifest: %+v, %v", m, err)
	}
}
