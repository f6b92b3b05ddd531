// Command startup measures how long the real binary takes from exec to
// ready (/readyz answering 200) over a data dir holding -n stored
// notifications, and its resident memory once idle.
//
// It fills a data dir through store.Ingest (the daemon's own write path;
// kept in -dir between runs, so only the first run pays for it), builds the
// binary, writes a config with an admin user, then -runs times: starts `notekeeper serve`, polls /readyz every
// millisecond until 200, waits -idle with no traffic, reads VmRSS and VmHWM
// from /proc, and stops it with SIGTERM.
//
//	go run ./bench/startup -n 1000000 -dir /var/tmp/nk-startup
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/notekeeper/notekeeper/bench/internal/measure"
	"github.com/notekeeper/notekeeper/store"
)

func main() {
	n := flag.Int("n", 1_000_000, "notifications stored before start-up")
	dir := flag.String("dir", "", "data dir parent kept between runs (default: a temporary directory, removed)")
	size := flag.Int("size", 1500, "bytes per stored notification body")
	runs := flag.Int("runs", 5, "start-ups measured")
	idle := flag.Duration("idle", 5*time.Second, "idle time before RSS is read")
	flag.Parse()
	if err := run(*n, *dir, *size, *runs, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		os.Exit(1)
	}
}

func run(n int, dir string, size, runs int, idle time.Duration) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "notekeeper-bench-startup-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	dataDir := filepath.Join(dir, "data")
	if err := fill(filepath.Join(dataDir, "notekeeper.db"), n, size); err != nil {
		return err
	}
	bin := filepath.Join(dir, "notekeeper")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	port, err := measure.FreePort()
	if err != nil {
		return err
	}
	// An admin user as in production (cost 12), so the admin UI is on.
	adminHash, err := bcrypt.GenerateFromPassword([]byte("bench-admin"), 12)
	if err != nil {
		return err
	}
	config := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`data_dir = %q
[server]
listen = "127.0.0.1:%d"
[nylas]
api_key = "bench"
webhook_secrets = ["bench-secret"]
[archive]
min_free_bytes = 0
[admin]
users = { ops = %q }
`, dataDir, port, adminHash)), 0o600); err != nil {
		return err
	}
	fi, err := os.Stat(filepath.Join(dataDir, "notekeeper.db"))
	if err != nil {
		return err
	}
	fmt.Printf("start-up benchmark: %d stored notifications (%d-byte bodies), database %.0f MiB, %d runs\n\n",
		n, size, float64(fi.Size())/(1<<20), runs)
	fmt.Printf("%-5s %14s %14s %14s\n", "run", "exec→ready", "idle RSS", "peak RSS")
	var readies []time.Duration
	for i := 1; i <= runs; i++ {
		ready, rss, hwm, err := startOnce(bin, config, port, idle)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		readies = append(readies, ready)
		fmt.Printf("%-5d %14s %11.1f MiB %11.1f MiB\n", i, ready.Round(time.Millisecond), float64(rss)/1024, float64(hwm)/1024)
	}
	slices.Sort(readies)
	fmt.Printf("\nmedian exec→ready %s (goal ≤ 300ms)\n", readies[len(readies)/2].Round(time.Millisecond))
	return nil
}

// fill stores n distinct notifications through store.Ingest from 64
// goroutines, unless the file already holds at least n.
func fill(path string, n, size int) error {
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		return err
	}
	defer db.Close()
	have, err := db.CountNotifications()
	if err != nil || have >= n {
		return err
	}
	fmt.Printf("filling %s with %d notifications…\n", path, n-have)
	pad := strings.Repeat("x", max(0, size-200))
	var next atomic.Int64
	next.Store(int64(have))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				body := fmt.Sprintf(`{"id":"bench-%d","type":"notetaker.meeting_state","time":1737501000,"data":{"object":{"id":"ntBench%d","state":"attending","pad":%q}}}`, i, i%5000, pad)
				_, err := db.Ingest(context.Background(), &store.Ingest{Notification: store.Notification{
					ID: "bench-" + strconv.FormatInt(i, 10), Type: "notetaker.meeting_state", Body: []byte(body)}})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// startOnce starts the daemon and measures exec→/readyz 200, then idle RSS.
func startOnce(bin, config string, port int, idle time.Duration) (time.Duration, int64, int64, error) {
	cmd := exec.Command(bin, "serve", "-config", config)
	cmd.Stderr = nil
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	client := &http.Client{Timeout: time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	var ready time.Duration
	for deadline := start.Add(30 * time.Second); ; {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				ready = time.Since(start)
				break
			}
		}
		if time.Now().After(deadline) {
			return 0, 0, 0, errors.New("not ready within 30s")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(idle)
	rss, hwm, err := measure.Memory(cmd.Process.Pid)
	return ready, rss >> 10, hwm >> 10, err
}
