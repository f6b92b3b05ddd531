// Command upload measures the S3 archive upload (s3target.Bucket.Upload:
// abort stale multipart uploads, stream the file through sha256 in
// PartSize × Concurrency bounded memory, verify the object) against a
// plain PutObject of the same file by the same client library (minio-go,
// default options), in the same run, and reports the process's peak RSS.
//
// Each target uploads the file twice (archive, plain, plain, archive, with
// a sync before each) and the MiB/s of both uploads are reported.
//
// It starts versitygw (posix backend in a temporary directory on the data
// disk, on a free loopback port), writes a -size file of deterministic
// bytes, uploads it both ways and removes everything afterwards. versitygw
// must be on PATH or in $(go env GOPATH)/bin.
//
//	go run ./bench/upload -size 1GiB
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/s3target"
	"github.com/notekeeper/notekeeper/bench/internal/measure"
)

const (
	access = "bench-access"
	secret = "bench-secret-key"
	bucket = "bench"
)

func main() {
	sizeFlag := flag.String("size", "1GiB", "file size (bytes, or with KiB/MiB/GiB)")
	dirFlag := flag.String("dir", "", "directory for the file and the server's data (default: a temporary directory)")
	flag.Parse()
	size, err := measure.ParseSize(*sizeFlag)
	if err == nil {
		err = run(size, *dirFlag)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "upload:", err)
		os.Exit(1)
	}
}

func run(size int64, dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "notekeeper-bench-upload-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	addr, stop, err := startServer(filepath.Join(dir, "s3"))
	if err != nil {
		return err
	}
	defer stop()
	b, err := s3target.New(s3target.Config{Endpoint: "http://" + addr, Region: "us-east-1", Bucket: bucket,
		Prefix: "bench/", AccessKey: access, SecretKey: secret, PathStyle: true})
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := b.Client().MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		return fmt.Errorf("make bucket: %w", err)
	}
	path := filepath.Join(dir, "recording.mp4")
	sum, err := writeFile(path, size)
	if err != nil {
		return err
	}
	entry := archive.FileEntry{Bytes: size, SHA256: sum, ContentType: "video/mp4"}
	rssStart := measure.PeakRSS()
	fmt.Printf("upload benchmark: %s to versitygw on %s (posix backend in %s)\n", measure.FormatSize(size), addr, dir)

	// archive, plain, plain, archive: each target runs twice, once early and
	// once late, and the disk is synced before each run, so neither pays for
	// the other's write-back. The archive's peak RSS is read before the first
	// plain upload.
	var archived, plain time.Duration
	var rssArchive int64
	for i, target := range []string{"archive", "plain", "plain", "archive"} {
		syscall.Sync()
		start := time.Now()
		if target == "archive" {
			if err := b.Upload(ctx, b.Key("nt1", fmt.Sprintf("recording-%d.mp4", i)), path, entry); err != nil {
				return fmt.Errorf("archive upload: %w", err)
			}
			archived += time.Since(start)
			if i == 0 {
				rssArchive = measure.PeakRSS()
			}
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		_, err = b.Client().PutObject(ctx, bucket, fmt.Sprintf("plain/recording-%d.mp4", i), f, size, minio.PutObjectOptions{ContentType: "video/mp4"})
		f.Close()
		if err != nil {
			return fmt.Errorf("plain PutObject: %w", err)
		}
		plain += time.Since(start)
	}
	rssPlain := measure.PeakRSS()
	size *= 2 // each target moved the file twice

	mibs := func(d time.Duration) float64 { return float64(size) / (1 << 20) / d.Seconds() }
	fmt.Printf("plain PutObject:  %6.1f MiB/s (%s for two uploads)\n", mibs(plain), plain.Round(time.Millisecond))
	fmt.Printf("archive Upload:   %6.1f MiB/s (%s for two uploads), %.2f× plain; file re-hashed alongside, object verified\n",
		mibs(archived), archived.Round(time.Millisecond), plain.Seconds()/archived.Seconds())
	fmt.Printf("peak RSS (VmHWM): %s before, %s after the archive upload, %s after both\n",
		measure.FormatSize(rssStart), measure.FormatSize(rssArchive), measure.FormatSize(rssPlain))
	ok := plain.Seconds()/archived.Seconds() >= 0.7 && rssArchive <= 128<<20
	if !ok {
		return errors.New("FAIL: want at least 0.7× plain and a peak RSS of at most 128 MiB for the archive upload")
	}
	fmt.Println("ok: at least 0.7× plain, peak RSS within 128 MiB")
	return nil
}

// startServer runs versitygw on a free loopback port with root in dir.
func startServer(dir string) (string, func(), error) {
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		out, _ := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(strings.TrimSpace(string(out)), "bin", "versitygw")
		if _, err := os.Stat(bin); err != nil {
			return "", nil, errors.New("versitygw not found: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--port", addr, "--access", access, "--secret", secret, "--quiet", "posix", dir)
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, errors.New("versitygw did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeFile writes size deterministic bytes to path and returns their
// sha256, in 1 MiB chunks.
func writeFile(path string, size int64) (string, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	w := bufio.NewWriterSize(f, 1<<20)
	chunk := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(chunk)) {
		n := min(int64(len(chunk)), size-off)
		for i := range chunk[:n] {
			chunk[i] = byte((off+int64(i))*31) ^ byte((off+int64(i))>>16)
		}
		w.Write(chunk[:n])
		h.Write(chunk[:n])
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), f.Sync()
}
