// Command download measures archive downloads against a plain io.Copy of
// the same URL to a file, in the same run, and reports the process's peak
// RSS.
//
// A local HTTP server generates a -size file on the fly (deterministic bytes,
// Range support, nothing held in memory). Each target downloads it to a file
// in a temporary directory on the data disk; the archive path also hashes
// (sha256), fsyncs the file and the directory and renames, as notekeeper
// does.
//
//	go run ./bench/download -size 1GiB
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/bench/internal/measure"
)

func main() {
	sizeFlag := flag.String("size", "1GiB", "file size (bytes, or with KiB/MiB/GiB)")
	dirFlag := flag.String("dir", "", "directory to download into (default: a temporary directory)")
	flag.Parse()
	size, err := measure.ParseSize(*sizeFlag)
	if err == nil {
		err = run(size, *dirFlag)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "download:", err)
		os.Exit(1)
	}
}

func run(size int64, dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "notekeeper-bench-download-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		http.ServeContent(w, r, "recording.mp4", time.Time{}, &generated{size: size})
	})}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/recording.mp4"
	want := expectedSHA(size)

	fmt.Printf("download benchmark: %s from a local server into %s\n", measure.FormatSize(size), dir)

	// Each target starts with no dirty pages left by the one before (sync,
	// not timed): otherwise whichever runs second pays for the first's
	// writeback.
	syscall.Sync()
	start := time.Now()
	if err := plainCopy(url, filepath.Join(dir, "plain.mp4"), false); err != nil {
		return fmt.Errorf("io.Copy: %w", err)
	}
	plain := time.Since(start)
	rssPlain := measure.PeakRSS()
	os.Remove(filepath.Join(dir, "plain.mp4"))

	syscall.Sync()
	start = time.Now()
	if err := plainCopy(url, filepath.Join(dir, "durable.mp4"), true); err != nil {
		return fmt.Errorf("io.Copy + fsync: %w", err)
	}
	durable := time.Since(start)
	os.Remove(filepath.Join(dir, "durable.mp4"))

	f := &archive.Fetcher{AllowHTTP: true, MaxBytes: size + 1}
	syscall.Sync()
	start = time.Now()
	res, err := f.Fetch(context.Background(), archive.Request{URL: url, Dir: filepath.Join(dir, "nt1"), Name: "recording.mp4", Expect: size})
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	archived := time.Since(start)
	if res.SHA256 != want {
		return errors.New("archive: sha256 mismatch")
	}

	mibps := func(d time.Duration) float64 { return float64(size) / (1 << 20) / d.Seconds() }
	fmt.Printf("\n%-34s %10s %10s\n", "target", "MiB/s", "time")
	fmt.Printf("%-34s %10.0f %10s\n", "io.Copy to a file", mibps(plain), plain.Round(time.Millisecond))
	fmt.Printf("%-34s %10.0f %10s\n", "archive (sha256, fsync, rename)", mibps(archived), archived.Round(time.Millisecond))
	fmt.Printf("%-34s %10.0f %10s\n", "io.Copy + fsync (reference)", mibps(durable), durable.Round(time.Millisecond))
	fmt.Printf("\narchive/io.Copy = %.2f   archive/(io.Copy + fsync) = %.2f   peak RSS after io.Copy %s, after both %s\n",
		mibps(archived)/mibps(plain), mibps(archived)/mibps(durable), measure.FormatSize(rssPlain), measure.FormatSize(measure.PeakRSS()))
	return nil
}

// plainCopy is the baseline: GET and io.Copy into a file; with durable,
// fsync it before closing (a reference: what durability alone costs).
func plainCopy(url, path string, durable bool) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	if durable {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// generated is a deterministic file of size bytes, produced on demand.
type generated struct {
	size, off int64
}

func byteAt(i int64) byte { return byte(i*31) ^ byte(i>>16) }

func (g *generated) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > g.size-g.off {
		n = g.size - g.off
	}
	for i := range n {
		p[i] = byteAt(g.off + i)
	}
	g.off += n
	return int(n), nil
}

func (g *generated) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		g.off = offset
	case io.SeekCurrent:
		g.off += offset
	case io.SeekEnd:
		g.off = g.size + offset
	}
	return g.off, nil
}

func expectedSHA(size int64) string {
	h := sha256.New()
	io.Copy(h, &generated{size: size})
	return hex.EncodeToString(h.Sum(nil))
}
