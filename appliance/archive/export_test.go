package archive_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/archive/archivetest"
	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// exportFolder lays out a meeting folder with real files and a manifest
// that lists them with their true hashes.
func exportFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "media", "ntExport1")
	man := &archive.Manifest{NotetakerID: "ntExport1", Title: "Acme renewal call", Files: map[string]archive.FileEntry{}}
	for name, content := range files {
		if err := datadir.WriteFileAtomic(dir, name, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if name == "transcript.txt" {
			continue // rendered, not listed
		}
		sum := sha256.Sum256([]byte(content))
		man.Files[name] = archive.FileEntry{Bytes: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), ContentType: "application/octet-stream", ArchivedAt: time.Now()}
	}
	if err := archive.WriteManifest(dir, man); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestExport(t *testing.T) {
	recording := strings.Repeat("\x00\x01video", 300<<10) // bigger than any buffer
	files := map[string]string{
		"recording.mp4":     recording,
		"summary.json":      `{"summary":"Jo wants to renew."}`,
		"action_items.json": `["Send the quote"]`,
		"transcript.json":   `{"transcript":[]}`,
		"transcript.txt":    "[00:00:00] Jo Park: Hello.\n",
	}
	cases := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		open    archive.OpenFunc
		want    []string // entries, without the folder prefix
		missing bool
	}{
		{name: "everything on disk",
			want: []string{"manifest.json", "action_items.json", "recording.mp4", "summary.json", "transcript.json", "transcript.txt", "SHA256SUMS"}},
		{name: "recording pruned",
			prepare: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "recording.mp4")) },
			want:    []string{"manifest.json", "action_items.json", "summary.json", "transcript.json", "transcript.txt", "MISSING", "SHA256SUMS"},
			missing: true},
		{name: "recording in the bucket",
			prepare: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "recording.mp4")) },
			open: func(_ context.Context, name string, e archive.FileEntry) (io.ReadCloser, error) {
				if name != "recording.mp4" {
					return nil, os.ErrNotExist
				}
				return io.NopCloser(strings.NewReader(recording)), nil
			},
			want: []string{"manifest.json", "action_items.json", "recording.mp4", "summary.json", "transcript.json", "transcript.txt", "SHA256SUMS"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := exportFolder(t, files)
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			var buf bytes.Buffer
			if err := archive.Export(context.Background(), &buf, dir, tc.open); err != nil {
				t.Fatal(err)
			}
			out, names := archivetest.Unpack(t, &buf)
			var got []string
			for _, n := range names {
				got = append(got, strings.TrimPrefix(n, "ntExport1/"))
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("entries %v, want %v", got, tc.want)
			}
			report := archivetest.SHA256SumCheck(t, filepath.Join(out, "ntExport1"))
			if !strings.Contains(report, "recording.mp4: OK") && !tc.missing {
				t.Fatalf("sha256sum did not check the recording:\n%s", report)
			}
			if tc.missing {
				b, _ := os.ReadFile(filepath.Join(out, "ntExport1", "MISSING"))
				if !strings.Contains(string(b), "recording.mp4") {
					t.Fatalf("MISSING says %q", b)
				}
			}
		})
	}
}

// A file whose bytes no longer match the manifest stops the export.
func TestExport_RefusesCorruptFile(t *testing.T) {
	dir := exportFolder(t, map[string]string{"summary.json": `{"summary":"ok"}`})
	os.WriteFile(filepath.Join(dir, "summary.json"), []byte(`{"summary":"KO"}`), 0o600)
	if err := archive.Export(context.Background(), io.Discard, dir, nil); !errors.Is(err, archive.ErrChecksum) {
		t.Fatalf("export of a corrupt file: %v, want ErrChecksum", err)
	}
	if err := archive.Export(context.Background(), io.Discard, t.TempDir(), nil); !errors.Is(err, archive.ErrNoManifest) {
		t.Fatalf("export without a manifest: %v, want ErrNoManifest", err)
	}
}
