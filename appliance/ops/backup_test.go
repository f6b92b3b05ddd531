package ops

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/store"
)

// stateOf is what a restore must bring back: notifications, tasks and
// records, as comparable text.
func stateOf(t *testing.T, db *store.DB) string {
	t.Helper()
	var b strings.Builder
	db.Notifications(0, 0, func(n *store.Notification) bool {
		b.WriteString(n.ID + " " + n.Type + " " + n.ReceivedAt.UTC().Format(time.RFC3339Nano) + " " + string(n.Body) + "\n")
		return true
	})
	tasks, err := db.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		b.WriteString(task.Key() + " " + task.LastError + "\n")
	}
	nts, _ := db.Notetakers()
	for _, nt := range nts {
		b.WriteString(nt.ID + " " + nt.State + "\n")
	}
	return b.String()
}

// populate gives s a store with notifications, tasks (one dead), a record,
// a link key, webhook files and certmagic storage.
func populate(t *testing.T, s *Service) {
	t.Helper()
	ref := store.TaskRef{Kind: store.TaskNotetaker, Subject: "nt-1"}
	ingest(t, s.DB, "ntf-1", "notetaker.meeting_state", "nt-1", ref)
	ingest(t, s.DB, "ntf-2", "booking.created", "bk-1", store.TaskRef{Kind: store.TaskBooking, Subject: "bk-1"})
	leased, _, _ := s.DB.Lease(1, time.Minute)
	s.DB.Fail(leased[0], "crm said 400", time.Time{})
	s.DB.UpdateNotetaker("nt-1", func(nt *store.Notetaker) error { nt.State = "attending"; return nil })
	if _, err := links.LoadKey(s.DataDir); err != nil {
		t.Fatal(err)
	}
	write := func(rel, content string) {
		p := filepath.Join(s.DataDir, rel)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("webhook.json", `{"id":"wh-1"}`)
	write("certmagic/certificates/acme/example.com/example.com.crt", "CERT")
	write("certmagic/acme/account.json", "ACCOUNT")
	write("media/nt-1/recording.mp4", "MEDIA IS NOT BACKED UP")
}

func TestBackupRestore_RoundTrip(t *testing.T) {
	s := newTestService(t)
	populate(t, s)
	want := stateOf(t, s.DB)
	var buf bytes.Buffer
	if err := s.Backup(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if names := tarNames(t, buf.Bytes()); slices.Contains(names, "media/nt-1/recording.mp4") {
		t.Fatalf("media in the backup: %v", names)
	}
	path := filepath.Join(t.TempDir(), "b.tar.gz")
	os.WriteFile(path, buf.Bytes(), 0o600)

	fresh := filepath.Join(t.TempDir(), "fresh")
	res, err := Restore(context.Background(), path, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.Notifications != 2 || res.Counts.TasksDead != 1 || res.Aside != "" {
		t.Fatalf("result %+v", res)
	}
	for _, rel := range []string{datadir.LinkKeyFile, "webhook.json", "certmagic/certificates/acme/example.com/example.com.crt", "certmagic/acme/account.json"} {
		a, _ := os.ReadFile(filepath.Join(s.DataDir, rel))
		b, err := os.ReadFile(filepath.Join(fresh, rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("%s: restored %q (%v), want %q", rel, b, err, a)
		}
		if fi, _ := os.Stat(filepath.Join(fresh, rel)); fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v", rel, fi.Mode())
		}
	}
	if _, err := os.Stat(filepath.Join(fresh, "media")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("media restored: %v", err)
	}
	db := store.NewDB(filepath.Join(fresh, datadir.DBFile))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := stateOf(t, db); got != want {
		t.Fatalf("restored state:\n%s\nwant:\n%s", got, want)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(fresh, ".restore-*")); len(leftovers) > 0 {
		t.Fatalf("staging left behind: %v", leftovers)
	}
}

// TestRestore_MovesReplacedStateAside: restoring over an existing (stopped)
// data dir keeps what it replaced and leaves media alone.
func TestRestore_MovesReplacedStateAside(t *testing.T) {
	s := newTestService(t)
	populate(t, s)
	path := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := WriteBackupFile(context.Background(), s, filepath.Dir(path), filepath.Base(path)); err != nil {
		t.Fatal(err)
	}
	ingest(t, s.DB, "ntf-after-backup", "notetaker.meeting_state", "nt-1")
	oldKey, _ := os.ReadFile(filepath.Join(s.DataDir, datadir.LinkKeyFile))
	s.DB.Close()

	res, err := Restore(context.Background(), path, s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Aside == "" {
		t.Fatal("nothing moved aside")
	}
	aside := store.NewDB(filepath.Join(res.Aside, datadir.DBFile))
	aside.ReadOnly = true
	if err := aside.Open(); err != nil {
		t.Fatal(err)
	}
	if n, _ := aside.CountNotifications(); n != 3 {
		t.Fatalf("aside db has %d notifications, want 3", n)
	}
	aside.Close()
	if res.Counts.Notifications != 2 {
		t.Fatalf("restored %d notifications, want 2", res.Counts.Notifications)
	}
	if key, _ := os.ReadFile(filepath.Join(s.DataDir, datadir.LinkKeyFile)); !bytes.Equal(key, oldKey) {
		t.Fatal("link key changed")
	}
	if b, _ := os.ReadFile(filepath.Join(s.DataDir, "media/nt-1/recording.mp4")); string(b) != "MEDIA IS NOT BACKED UP" {
		t.Fatal("media touched")
	}
}

func TestRestore_Refuses(t *testing.T) {
	good := func(t *testing.T) []byte {
		s := newTestService(t)
		populate(t, s)
		var buf bytes.Buffer
		if err := s.Backup(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, tc := range []struct {
		name   string
		backup func(t *testing.T) []byte
		want   string
	}{
		{"not gzip", func(*testing.T) []byte { return []byte("hello") }, "not a tar.gz"},
		{"cut short", func(t *testing.T) []byte { b := good(t); return b[:len(b)/2] }, "unexpected EOF"},
		{"no database", func(t *testing.T) []byte { return makeTar(t, map[string]string{"files.key": "k"}) }, "no notekeeper.db"},
		{"not a database", func(t *testing.T) []byte {
			return makeTar(t, map[string]string{datadir.DBFile: strings.Repeat("x", 8192)})
		}, "open store"},
		{"path escape", func(t *testing.T) []byte { return makeTar(t, map[string]string{"../evil": "x"}) }, "not a local path"},
		{"absolute path", func(t *testing.T) []byte { return makeTar(t, map[string]string{"/etc/evil": "x"}) }, "not a local path"},
		{"media", func(t *testing.T) []byte { return makeTar(t, map[string]string{"media/nt-1/x.mp4": "x"}) }, "not something a backup holds"},
		{"nested outside certmagic", func(t *testing.T) []byte { return makeTar(t, map[string]string{"backups/x": "x"}) }, "not something a backup holds"},
		{"hidden file", func(t *testing.T) []byte { return makeTar(t, map[string]string{".ssh": "x"}) }, "not something a backup holds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			os.MkdirAll(dataDir, 0o700)
			os.WriteFile(filepath.Join(dataDir, "files.key"), []byte("old key"), 0o600)
			path := filepath.Join(t.TempDir(), "b.tar.gz")
			os.WriteFile(path, tc.backup(t), 0o600)
			_, err := Restore(context.Background(), path, dataDir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			entries, _ := os.ReadDir(dataDir)
			if len(entries) != 1 || entries[0].Name() != "files.key" {
				t.Fatalf("data dir changed: %v", entries)
			}
			if b, _ := os.ReadFile(filepath.Join(dataDir, "files.key")); string(b) != "old key" {
				t.Fatal("files.key replaced")
			}
		})
	}
}

// TestRestore_RefusesWhileDaemonRuns: the store lock held (a daemon without
// socket), or a socket that answers, stops a restore before it reads the
// backup.
func TestRestore_RefusesWhileDaemonRuns(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(t *testing.T, s *Service)
	}{
		{"store lock held", func(*testing.T, *Service) {}},
		{"socket answers", func(t *testing.T, s *Service) {
			srv := NewServer(s, datadir.SocketPath(s.DataDir))
			if err := srv.Open(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close(context.Background()) })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestService(t) // holds the lock
			tc.start(t, s)
			path := filepath.Join(t.TempDir(), "b.tar.gz")
			os.WriteFile(path, []byte("never read"), 0o600)
			_, err := Restore(context.Background(), path, s.DataDir)
			if !errors.Is(err, ErrDaemonRunning) {
				t.Fatalf("err %v, want ErrDaemonRunning", err)
			}
		})
	}
}

func TestBackupJob_WritesAndRotates(t *testing.T) {
	s := newTestService(t)
	populate(t, s)
	c := &clock{t: time.Date(2026, 1, 20, 3, 0, 0, 0, time.UTC)}
	s.Now = c.Now
	dir := filepath.Join(s.DataDir, datadir.BackupDir)
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "operator-notes.txt"), []byte("keep me"), 0o600)
	job := s.BackupJob(2)
	for range 4 {
		if err := job(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.t = c.t.Add(24 * time.Hour)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"notekeeper-20260122T030000Z.tar.gz", "notekeeper-20260123T030000Z.tar.gz", "operator-notes.txt"}
	if !slices.Equal(names, want) {
		t.Fatalf("backups dir %v, want %v", names, want)
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", fi.Mode())
	}
	fi, _ = os.Stat(filepath.Join(dir, want[1]))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v", fi.Mode())
	}
	b, _ := os.ReadFile(filepath.Join(dir, want[1]))
	if names := tarNames(t, b); !slices.Contains(names, datadir.DBFile) || !slices.Contains(names, datadir.LinkKeyFile) {
		t.Fatalf("backup holds %v", names)
	}
}

// TestWriteBackupFile_NoFileOnFailure: a backup that fails leaves no file,
// under its name or a temporary one.
func TestWriteBackupFile_NoFileOnFailure(t *testing.T) {
	s := newTestService(t)
	s.DB.Close() // the snapshot fails
	dir := t.TempDir()
	if _, err := WriteBackupFile(context.Background(), s, dir, "b.tar.gz"); err == nil {
		t.Fatal("backup of a closed store succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}

func tarNames(t *testing.T, b []byte) []string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
	}
	return names
}

func makeTar(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, content := range files {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o600, Size: int64(len(content))})
		tw.Write([]byte(content))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}
