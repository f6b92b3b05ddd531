package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/s3target/s3test"
	"github.com/notekeeper/notekeeper/store"
)

// s3ConfigTable is an [archive.s3] table for the test server at endpoint.
func s3ConfigTable(endpoint string) string {
	return fmt.Sprintf("[archive.s3]\nendpoint = %q\nregion = %q\nbucket = %q\nprefix = \"nk/\"\naccess_key = %q\nsecret_key = %q\npath_style = true\n",
		endpoint, s3test.Region, s3test.Bucket, s3test.AccessKey, s3test.SecretKey)
}

// startS3 runs versitygw for the test (s3test.Start); a test skipped for
// want of it is named in the run's last line.
func startS3(t *testing.T) *s3test.Server {
	t.Helper()
	return needTool(t, "versitygw", s3test.Install, s3test.Start)
}

// TestE2E_Kill9DuringUploadRestartsCleanly kills the daemon while a 72 MiB
// recording is being uploaded (through a throttled relay), checks that
// nothing is visible under the final key and the file is still in the
// spool, then restarts it: the stale multipart upload is aborted and the
// object completes, verified.
func TestE2E_Kill9DuringUploadRestartsCleanly(t *testing.T) {
	srv := startS3(t)
	binary(t)
	proxy := s3test.NewProxy(t, srv.Addr)
	proxy.SetRate(8 << 20) // 8 MiB/s: the upload takes seconds
	recording := make([]byte, 72<<20)
	for i := range recording {
		recording[i] = byte(i*31) ^ byte(i>>16)
	}
	sum := sha256.Sum256(recording)
	want := hex.EncodeToString(sum[:])
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		http.ServeContent(w, r, "rec.mp4", time.Time{}, bytes.NewReader(recording))
	}))
	defer storage.Close()
	api := recordingMediaAPI(t, storage.URL, len(recording))

	dataDir := filepath.Join(t.TempDir(), "data")
	config := writeE2EMediaConfig(t, dataDir, api.URL, "recording", "target = \"s3\"\n", s3ConfigTable(proxy.Endpoint()))

	d := startDaemon(t, config)
	body := []byte(fmt.Sprintf(`{"specversion":"1.0","type":"notetaker.media","id":"ntf-s3-1","time":%d,"data":{"object":`+
		`{"id":"ntUp1","grant_id":"grant-e2e","state":"available","media":{"recording":%q,"recording_file_format":"mp4"}}}}`,
		time.Now().Unix(), storage.URL+"/rec.mp4"))
	if status, err := postNotification(http.DefaultClient, d.url, body); err != nil || status != 200 {
		t.Fatalf("post: %d %v", status, err)
	}

	ctx := context.Background()
	client := srv.Client(s3test.AccessKey, s3test.SecretKey)
	core := minio.Core{Client: client}
	const key = "nk/ntUp1/recording.mp4"
	// Wait until the multipart upload has parts on the server, then kill.
	deadline := time.Now().Add(60 * time.Second)
	for {
		parts := 0
		for u := range client.ListIncompleteUploads(ctx, s3test.Bucket, key, false) {
			if u.Err == nil && u.Key == key {
				if res, err := core.ListObjectParts(ctx, s3test.Bucket, key, u.UploadID, 0, 100); err == nil {
					parts = len(res.ObjectParts)
				}
			}
		}
		if parts > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload never got going\n%s", d.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.kill()
	if _, err := client.StatObject(ctx, s3test.Bucket, key, minio.StatObjectOptions{}); err == nil {
		t.Fatal("an object stands under the final key after kill -9 mid-upload")
	}
	local := filepath.Join(dataDir, "media", "ntUp1", "recording.mp4")
	if got, err := os.ReadFile(local); err != nil || !bytes.Equal(got, recording) {
		t.Fatalf("the spooled recording is not intact after kill -9: %v", err)
	}

	proxy.SetRate(0)
	d = startDaemon(t, config)
	deadline = time.Now().Add(90 * time.Second)
	for {
		man, err := archive.ReadManifest(filepath.Dir(local))
		if err == nil && man.Files["recording.mp4"].Object == key {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload not completed after restart\n%s", d.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	obj, err := client.GetObject(ctx, s3test.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, n, err := archive.HashReader(obj)
	obj.Close()
	if err != nil || got != want || n != int64(len(recording)) {
		t.Fatalf("object: sha256 %s over %d bytes (%v), want %s", got, n, err, want)
	}
	for u := range client.ListIncompleteUploads(ctx, s3test.Bucket, key, false) {
		t.Errorf("incomplete upload left behind: %+v", u)
	}
	if _, err := os.Stat(local); !os.IsNotExist(err) {
		t.Errorf("spooled recording not removed after the verified upload: %v", err)
	}
	if err := d.stop(t); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// seedMeeting writes a locally archived meeting (as target = "local"
// leaves it): files plus manifest.
func seedMeeting(t *testing.T, dataDir, id string, files map[string][]byte) {
	t.Helper()
	dir, err := archive.MediaDir(dataDir, id)
	if err != nil {
		t.Fatal(err)
	}
	man := &archive.Manifest{NotetakerID: id, Files: map[string]archive.FileEntry{}}
	for name, data := range files {
		if err := datadir.WriteFileAtomic(dir, name, data); err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(data)
		man.Files[name] = archive.FileEntry{Bytes: int64(len(data)), SHA256: hex.EncodeToString(s[:]), ContentType: "application/octet-stream", ArchivedAt: time.Now()}
	}
	if err := archive.WriteManifest(dir, man); err != nil {
		t.Fatal(err)
	}
}

func TestArchiveMigrateToS3(t *testing.T) {
	srv := startS3(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	config := writeConfig(t, e2eConfig(dataDir)+s3ConfigTable(srv.Endpoint())) // target stays "local"
	db := store.NewDB(filepath.Join(dataDir, "notekeeper.db"))
	os.MkdirAll(dataDir, 0o700)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB
	seedMeeting(t, dataDir, "ntMig1", map[string][]byte{"recording.mp4": big, "summary.json": []byte(`{"summary":"s"}`)})
	seedMeeting(t, dataDir, "ntMig2", map[string][]byte{"recording.mp3": []byte("short audio"), "thumbnail.png": []byte("png")})

	migrate := func(args ...string) (string, int) {
		out, errOut, code := runBin(t, append([]string{"archive", "migrate", "-config", config}, args...)...)
		return out + errOut, code
	}
	if out, code := migrate("-to", "gcs"); code == 0 || !strings.Contains(out, `-to must be "s3"`) {
		t.Errorf("-to gcs: exit %d %s", code, out)
	}
	out, code := migrate("-to", "s3", "-delete-local")
	if code != 0 {
		t.Fatalf("migrate: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "2 meetings") || !strings.Contains(out, "4 files uploaded and verified, 0 already there, 3 local copies removed") {
		t.Errorf("migrate said %q", out)
	}
	client := srv.Client(s3test.AccessKey, s3test.SecretKey)
	for _, key := range []string{"nk/ntMig1/recording.mp4", "nk/ntMig1/summary.json", "nk/ntMig1/manifest.json", "nk/ntMig2/recording.mp3", "nk/ntMig2/thumbnail.png"} {
		if _, err := client.StatObject(context.Background(), s3test.Bucket, key, minio.StatObjectOptions{}); err != nil {
			t.Errorf("%s not in the bucket: %v", key, err)
		}
	}
	dir1 := filepath.Join(dataDir, "media", "ntMig1")
	if _, err := os.Stat(filepath.Join(dir1, "recording.mp4")); !os.IsNotExist(err) {
		t.Errorf("local recording kept with -delete-local: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir1, "summary.json")); err != nil {
		t.Errorf("summary.json must stay local (CRM/ATS read it): %v", err)
	}
	man, err := archive.ReadManifest(dir1)
	if err != nil || man.Files["recording.mp4"].Object != "nk/ntMig1/recording.mp4" {
		t.Errorf("manifest after migrate: %+v %v", man, err)
	}

	// A re-run is a no-op.
	out, code = migrate("-to", "s3", "-delete-local")
	if code != 0 || !strings.Contains(out, "0 files uploaded and verified, 4 already there, 0 local copies removed") {
		t.Errorf("re-run: exit %d %q", code, out)
	}

	// verify checks the objects against the manifests …
	verify := func() (string, int) {
		out, errOut, code := runBin(t, "verify", "-config", config)
		return out + errOut, code
	}
	if vout, code := verify(); code != 0 ||
		!strings.Contains(vout, "ok: 4 files in 2 meetings") || !strings.Contains(vout, "4 of them objects in the bucket") {
		t.Errorf("verify: exit %d\n%s", code, vout)
	}
	// … and finds an object whose bytes changed behind its metadata.
	forged := bytes.Repeat([]byte("X"), len(big))
	if _, err := client.PutObject(context.Background(), s3test.Bucket, "nk/ntMig1/recording.mp4", bytes.NewReader(forged), int64(len(forged)),
		minio.PutObjectOptions{UserMetadata: map[string]string{"Sha256": man.Files["recording.mp4"].SHA256}}); err != nil {
		t.Fatal(err)
	}
	if vout, code := verify(); code == 0 || !strings.Contains(vout, "ntMig1/recording.mp4: mismatch") {
		t.Errorf("verify of a forged object: exit %d\n%s", code, vout)
	}
}

func TestCheckProbesTheBucket(t *testing.T) {
	srv := startS3(t)
	tests := []struct {
		name, endpoint, secret, want string
	}{
		{"reachable, right keys", srv.Endpoint(), s3test.SecretKey, ""},
		{"wrong secret key", srv.Endpoint(), "wrong", "s3 credentials refused"},
		{"nothing listening", "http://" + freeAddr(t), s3test.SecretKey, "bucket unreachable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := strings.Replace(s3ConfigTable(tc.endpoint), s3test.SecretKey, tc.secret, 1)
			out, errOut, code := runBin(t, "check", "-config", writeConfig(t, e2eConfig(t.TempDir())+table))
			// The bucket probe's finding is the line naming [archive.s3].
			f, bad := "", false
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, "archive.s3") {
					f, bad = line, true
				}
			}
			if bad != (tc.want != "") || !strings.Contains(f, tc.want) {
				t.Errorf("check: %v %q, want %q (exit %d)\n%s%s", bad, f, tc.want, code, out, errOut)
			}
			if bad && !strings.HasPrefix(f, "archive.s3: ") && !strings.Contains(f, "archive.s3:") {
				t.Errorf("problem does not name [archive.s3]: %q", f)
			}
		})
	}
}
