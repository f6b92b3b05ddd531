package s3target_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/s3target/s3test"
)

// bigFile writes n deterministic bytes and returns the path and entry.
func bigFile(t *testing.T, n int) (string, archive.FileEntry) {
	t.Helper()
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*31) ^ byte(i>>16)
	}
	path := filepath.Join(t.TempDir(), "recording.mp4")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return path, archive.FileEntry{Bytes: int64(n), SHA256: hex.EncodeToString(sum[:]), ContentType: "video/mp4"}
}

func TestUploadMultipartVerified(t *testing.T) {
	srv := s3test.Start(t)
	b := s3test.OpenBucket(t, srv.Endpoint(), s3test.SecretKey, "nk/")
	ctx := context.Background()
	path, e := bigFile(t, 70<<20) // > 64 MiB: five parts of 16 MiB
	key := b.Key("nt1", "recording.mp4")
	if key != "nk/nt1/recording.mp4" {
		t.Fatalf("key %q", key)
	}
	if err := b.Upload(ctx, key, path, e); err != nil {
		t.Fatal(err)
	}
	if err := b.Check(ctx, key, e, true); err != nil {
		t.Fatalf("check with rehash: %v", err)
	}
	info, err := b.Client().StatObject(ctx, s3test.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info.ETag, "-") {
		t.Errorf("etag %q: want a multipart upload's etag (md5-N)", info.ETag)
	}
	bad := e
	bad.SHA256 = strings.Repeat("0", 64)
	if err := b.Check(ctx, key, bad, false); !errors.Is(err, archive.ErrChecksum) {
		t.Errorf("check against a wrong sha256: %v, want ErrChecksum", err)
	}
	if err := b.Check(ctx, b.Key("nt1", "nope.mp4"), e, false); !errors.Is(err, archive.ErrObjectMissing) {
		t.Errorf("check of a missing object: %v, want ErrObjectMissing", err)
	}

	// A presigned GET serves ranges straight from the bucket.
	u, err := b.PresignGet(ctx, key, "recording.mp4", "video/mp4", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", u.String(), nil)
	req.Header.Set("Range", "bytes=100-199")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want, _ := os.ReadFile(path)
	if resp.StatusCode != http.StatusPartialContent || string(got) != string(want[100:200]) {
		t.Errorf("range through presigned URL: %d, %d bytes", resp.StatusCode, len(got))
	}
}

func TestUploadRefusesAFileThatDoesNotMatch(t *testing.T) {
	srv := s3test.Start(t)
	b := s3test.OpenBucket(t, srv.Endpoint(), s3test.SecretKey, "nk/")
	path, e := bigFile(t, 1000)
	e.SHA256 = strings.Repeat("ab", 32) // the manifest says otherwise: bit rot
	key := b.Key("nt2", "recording.mp4")
	if err := b.Upload(context.Background(), key, path, e); !errors.Is(err, archive.ErrChecksum) {
		t.Fatalf("upload: %v, want ErrChecksum", err)
	}
	if _, err := b.Client().StatObject(context.Background(), s3test.Bucket, key, minio.StatObjectOptions{}); err == nil {
		t.Error("a mismatching object was left under its key")
	}
}

func TestUploadAbortsStaleMultipart(t *testing.T) {
	srv := s3test.Start(t)
	b := s3test.OpenBucket(t, srv.Endpoint(), s3test.SecretKey, "nk/")
	ctx := context.Background()
	key := b.Key("nt3", "recording.mp4")
	core := minio.Core{Client: b.Client()}
	if _, err := core.NewMultipartUpload(ctx, s3test.Bucket, key, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	path, e := bigFile(t, 20<<20)
	if err := b.Upload(ctx, key, path, e); err != nil {
		t.Fatal(err)
	}
	for u := range b.Client().ListIncompleteUploads(ctx, s3test.Bucket, key, false) {
		t.Errorf("incomplete upload left: %+v", u)
	}
}

func TestFailuresAreNamed(t *testing.T) {
	srv := s3test.Start(t)
	closed := s3test.FreeAddr(t)
	path, e := bigFile(t, 1000)
	tests := []struct {
		name     string
		endpoint string
		secret   string
		want     error
	}{
		{"wrong secret key", srv.Endpoint(), "not-the-secret", archive.ErrCredentials},
		{"nothing listening", "http://" + closed, s3test.SecretKey, archive.ErrUnreachable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := s3test.OpenBucket(t, tc.endpoint, tc.secret, "nk/")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := b.Ping(ctx); !errors.Is(err, tc.want) {
				t.Errorf("ping: %v, want %v", err, tc.want)
			}
			if err := b.Upload(ctx, b.Key("nt4", "recording.mp4"), path, e); !errors.Is(err, tc.want) {
				t.Errorf("upload: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestManifestRoundTrip(t *testing.T) {
	srv := s3test.Start(t)
	b := s3test.OpenBucket(t, srv.Endpoint(), s3test.SecretKey, "nk/")
	ctx := context.Background()
	if _, err := b.GetManifest(ctx, "nt5"); !errors.Is(err, archive.ErrNoManifest) {
		t.Fatalf("missing manifest: %v", err)
	}
	m := &archive.Manifest{NotetakerID: "nt5", Files: map[string]archive.FileEntry{"summary.json": {Bytes: 3, SHA256: "abc", Object: "nk/nt5/summary.json"}}}
	if err := b.PutManifest(ctx, "nt5", m); err != nil {
		t.Fatal(err)
	}
	got, err := b.GetManifest(ctx, "nt5")
	if err != nil {
		t.Fatal(err)
	}
	if got.Files["summary.json"].Object != "nk/nt5/summary.json" {
		t.Errorf("manifest read back: %+v", got)
	}
}
