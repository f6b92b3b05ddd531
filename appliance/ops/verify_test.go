package ops

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/store"
)

// archiveMeeting writes files and a manifest for them, as the archiver
// does, and returns the meeting's folder.
func archiveMeeting(t *testing.T, dataDir, id string, files map[string]string) string {
	t.Helper()
	dir, err := archive.MediaDir(dataDir, id)
	if err != nil {
		t.Fatal(err)
	}
	man := &archive.Manifest{NotetakerID: id, Files: map[string]archive.FileEntry{}}
	for name, content := range files {
		if err := datadir.WriteFileAtomic(dir, name, []byte(content)); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(content))
		man.Files[name] = archive.FileEntry{Bytes: int64(len(content)), SHA256: hex.EncodeToString(sum[:]),
			ContentType: "application/octet-stream", ArchivedAt: time.Now()}
	}
	if err := archive.WriteManifest(dir, man); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestVerify(t *testing.T) {
	files := map[string]string{"recording.mp4": "not really a video, but bytes", "summary.json": `{"summary":"ok"}`}
	for _, tc := range []struct {
		name     string
		damage   func(t *testing.T, s *Service, dir string)
		want     []string // problems as printed
		files    int
		pruned   int
		meetings int
	}{
		{name: "intact", files: 2, meetings: 1},
		{
			name: "flipped byte",
			damage: func(t *testing.T, _ *Service, dir string) {
				p := filepath.Join(dir, "recording.mp4")
				b, _ := os.ReadFile(p)
				b[3] ^= 0x01
				os.WriteFile(p, b, 0o600)
			},
			want: []string{"nt-1/recording.mp4: mismatch"}, files: 1, meetings: 1,
		},
		{
			name: "truncated",
			damage: func(t *testing.T, _ *Service, dir string) {
				os.Truncate(filepath.Join(dir, "summary.json"), 3)
			},
			want: []string{"nt-1/summary.json: mismatch"}, files: 1, meetings: 1,
		},
		{
			name:   "missing",
			damage: func(t *testing.T, _ *Service, dir string) { os.Remove(filepath.Join(dir, "summary.json")) },
			want:   []string{"nt-1/summary.json: missing"}, files: 1, meetings: 1,
		},
		{
			name: "missing after retention pruned the meeting",
			damage: func(t *testing.T, s *Service, dir string) {
				os.Remove(filepath.Join(dir, "summary.json"))
				os.Remove(filepath.Join(dir, "recording.mp4"))
				s.DB.UpdateNotetaker("nt-1", func(nt *store.Notetaker) error { nt.PrunedAt = time.Now(); return nil })
			},
			pruned: 2, meetings: 1,
		},
		{
			name: "pruned meeting with a changed file is still a mismatch",
			damage: func(t *testing.T, s *Service, dir string) {
				os.WriteFile(filepath.Join(dir, "summary.json"), []byte(`{"summary":"no"}`), 0o600)
				s.DB.UpdateNotetaker("nt-1", func(nt *store.Notetaker) error { nt.PrunedAt = time.Now(); return nil })
			},
			want: []string{"nt-1/summary.json: mismatch"}, files: 1, meetings: 1,
		},
		{
			name: "manifest unreadable",
			damage: func(t *testing.T, _ *Service, dir string) {
				os.WriteFile(filepath.Join(dir, "manifest.json"), []byte("{"), 0o600)
			},
			want: []string{"nt-1/manifest.json: unreadable"},
		},
		{
			name: "folder without manifest is an archive not begun",
			damage: func(t *testing.T, _ *Service, dir string) {
				os.Remove(filepath.Join(dir, "manifest.json"))
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestService(t)
			dir := archiveMeeting(t, s.DataDir, "nt-1", files)
			if tc.damage != nil {
				tc.damage(t, s, dir)
			}
			rep, err := s.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range rep.Problems {
				got = append(got, p.NotetakerID+"/"+cmp.Or(p.File, "manifest.json")+": "+p.Problem)
			}
			if !slices.Equal(got, tc.want) || rep.Files != tc.files || rep.Pruned != tc.pruned || rep.Meetings != tc.meetings {
				t.Fatalf("problems %v files %d pruned %d meetings %d; want %v %d %d %d",
					got, rep.Files, rep.Pruned, rep.Meetings, tc.want, tc.files, tc.pruned, tc.meetings)
			}
		})
	}
}

func TestVerify_NoMediaFolder(t *testing.T) {
	s := newTestService(t)
	rep, err := s.Verify(context.Background())
	if err != nil || rep.Meetings != 0 || len(rep.Problems) != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
}
