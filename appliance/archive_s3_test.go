package appliance_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/s3target"
	"github.com/notekeeper/notekeeper/appliance/s3target/s3test"
)

// statSHA returns an object's size and sha256 metadata.
func statSHA(t *testing.T, b *s3target.Bucket, key string) (int64, string, error) {
	t.Helper()
	info, err := b.Client().StatObject(context.Background(), s3test.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return 0, "", err
	}
	return info.Size, info.UserMetadata["Sha256"], nil
}

func TestArchiveS3_MultipartRecordingVerifiedAndServed(t *testing.T) {
	srv := s3test.Start(t)
	bucket := s3test.OpenBucket(t, srv.Endpoint(), s3test.SecretKey, "meetings/")
	fake := newFakeNylas(t)
	files := meetingFiles(t, 70<<20, "video/mp4") // > 64 MiB: a multipart upload
	fake.add("ntS3a", "grant-1", files)
	app := openArchiveApp(t, fake, func(a *appliance.Archiver) { a.Target = bucket })
	app.postSigned(t, fake.mediaNotification("n-s3a", "ntS3a", "grant-1", "available", "mp4", allKinds...))
	nt := app.waitArchived(t, "ntS3a")
	if nt.ArchiveError != "" {
		t.Fatalf("archive error: %s", nt.ArchiveError)
	}

	dir := filepath.Join(app.DataDir, "media", "ntS3a")
	man, err := archive.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{"recording": "recording.mp4", "transcript": "transcript.json", "summary": "summary.json",
		"action_items": "action_items.json", "thumbnail": "thumbnail.png"}
	for kind, name := range names {
		e := man.Files[name]
		if e.Object != "meetings/ntS3a/"+name || e.SHA256 != files[kind].sha() {
			t.Errorf("%s: manifest entry %+v", name, e)
		}
		size, sha, err := statSHA(t, bucket, e.Object)
		if err != nil || size != int64(len(files[kind].data)) || sha != files[kind].sha() {
			t.Errorf("%s: object %d bytes, sha256 %q, %v", name, size, sha, err)
		}
		if err := bucket.Check(context.Background(), e.Object, e, true); err != nil {
			t.Errorf("%s: re-hash of the object: %v", name, err)
		}
		_, statErr := os.Stat(filepath.Join(dir, name))
		if keep := archive.KeepLocal(name); keep != (statErr == nil) {
			t.Errorf("%s: local copy present = %v, want %v", name, statErr == nil, keep)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "transcript.txt")); err != nil {
		t.Errorf("transcript.txt stays local for the ATS: %v", err)
	}
	remote, err := bucket.GetManifest(context.Background(), "ntS3a")
	if err != nil || len(remote.Files) != 5 || remote.Files["recording.mp4"].Object == "" {
		t.Errorf("manifest in the bucket: %+v, %v", remote, err)
	}

	// A signed /files link to the recording redirects to the bucket; Range
	// is answered there.
	key, err := links.LoadKey(app.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	signer := &links.Signer{Key: key, BaseURL: app.Server.URL(), TTL: time.Hour, Now: time.Now}
	app.Server.Links, app.Server.DataDir, app.Server.Target = signer, app.DataDir, bucket
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(signer.URL("ntS3a", "recording.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.HasPrefix(resp.Header.Get("Location"), srv.Endpoint()+"/archive/meetings/ntS3a/recording.mp4?") {
		t.Fatalf("link to an object: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ := http.NewRequest("GET", signer.URL("ntS3a", "recording.mp4"), nil)
	req.Header.Set("Range", "bytes=68157440-68158463") // 1 KiB at 65 MiB
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, files["recording"].data[68157440:68158464]) {
		t.Errorf("range through the link: %d, %d bytes", resp.StatusCode, len(body))
	}
	// The summary is still served locally; a tampered link is refused.
	if status, body := get(t, signer.URL("ntS3a", "summary.json")); status != 200 || !bytes.Equal([]byte(body), files["summary"].data) {
		t.Errorf("local summary: %d %q", status, body)
	}
	if status, _ := get(t, strings.Replace(signer.URL("ntS3a", "recording.mp4"), "sig=", "sig=00", 1)); status != http.StatusForbidden {
		t.Errorf("bad signature: %d, want 403", status)
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return do(t, req)
}

func TestArchiveS3_UnreachableBucketKeepsFilesInTheSpool(t *testing.T) {
	srv := s3test.Start(t)
	bucket := s3test.OpenBucket(t, srv.Endpoint(), s3test.SecretKey, "meetings/")
	srv.Stop() // the bucket is unreachable from the start
	fake := newFakeNylas(t)
	files := meetingFiles(t, 3<<20, "video/mp4")
	fake.add("ntS3b", "grant-1", files)
	app := openArchiveApp(t, fake, func(a *appliance.Archiver) { a.Target, a.UploadRecheck = bucket, 50*time.Millisecond })
	app.postSigned(t, fake.mediaNotification("n-s3b", "ntS3b", "grant-1", "available", "mp4", allKinds...))

	dir := filepath.Join(app.DataDir, "media", "ntS3b")
	waitFor(t, "the downloads in the spool", func() bool {
		man, err := archive.ReadManifest(dir)
		return err == nil && len(man.Files) == 5
	})
	waitFor(t, "the unreachable bucket recorded", func() bool {
		nt, err := app.DB.Notetaker("ntS3b")
		return err == nil && strings.Contains(nt.ArchiveError, "bucket unreachable")
	})
	if nt, _ := app.DB.Notetaker("ntS3b"); nt.ArchiveDone {
		t.Fatal("archive done while the bucket is unreachable")
	}
	if got, err := os.ReadFile(filepath.Join(dir, "recording.mp4")); err != nil || !bytes.Equal(got, files["recording"].data) {
		t.Fatalf("recording not kept in the spool: %v", err)
	}
	tasks, err := app.DB.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if task.Dead {
			t.Errorf("task %s dead-lettered while the bucket was unreachable", task.Key())
		}
	}

	srv.Restart()
	nt := app.waitArchived(t, "ntS3b")
	if nt.ArchiveError != "" {
		t.Errorf("archive error after recovery: %s", nt.ArchiveError)
	}
	if _, err := os.Stat(filepath.Join(dir, "recording.mp4")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("spooled recording not removed after upload: %v", err)
	}
	if err := bucket.Check(context.Background(), "meetings/ntS3b/recording.mp4", archive.FileEntry{Bytes: 3 << 20, SHA256: files["recording"].sha()}, true); err != nil {
		t.Error(err)
	}
}

func TestArchiveS3_WrongCredentialsLoseNothing(t *testing.T) {
	srv := s3test.Start(t)
	bucket := s3test.OpenBucket(t, srv.Endpoint(), "wrong-secret", "meetings/")
	fake := newFakeNylas(t)
	files := meetingFiles(t, 1<<20, "video/mp4")
	fake.add("ntS3c", "grant-1", files)
	app := openArchiveApp(t, fake, func(a *appliance.Archiver) { a.Target = bucket })
	app.postSigned(t, fake.mediaNotification("n-s3c", "ntS3c", "grant-1", "available", "mp4", allKinds...))
	waitFor(t, "the refused credentials recorded", func() bool {
		nt, err := app.DB.Notetaker("ntS3c")
		return err == nil && strings.Contains(nt.ArchiveError, "s3 credentials refused") &&
			strings.Contains(nt.ArchiveError, "access_key and secret_key")
	})
	dir := filepath.Join(app.DataDir, "media", "ntS3c")
	for kind, f := range files {
		name := archive.FileName(kind, "mp4", f.contentType)
		if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(got, f.data) {
			t.Errorf("%s not kept locally: %v", name, err)
		}
	}
	if nt, _ := app.DB.Notetaker("ntS3c"); nt.ArchiveDone {
		t.Error("archive done with refused credentials")
	}
}
