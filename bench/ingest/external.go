package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/notekeeper/notekeeper/store"
)

// daemon is `notekeeper serve` run as its own process, as a user's server
// runs it, with the load generator in this one.
type daemon struct {
	cmd                    *exec.Cmd
	webhookURL, metricsURL string
}

// startDaemon builds the binary into dir, writes a config whose data dir
// is dir/data, starts it and waits for /readyz.
func startDaemon(dir string) (*daemon, error) {
	bin := filepath.Join(dir, "notekeeper")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	mport, err := freePort()
	if err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "config.toml")
	err = os.WriteFile(config, []byte(fmt.Sprintf(`data_dir = %q
[log]
level = "warn"
[server]
listen = "127.0.0.1:%d"
metrics_listen = "127.0.0.1:%d"
[nylas]
api_key = "bench"
webhook_secrets = [%q]
[archive]
min_free_bytes = 0
[jobs]
refresh_media = ""
archive_sweep = ""
reconcile = ""
webhook_watchdog = ""
backup = ""
retention = ""
`, filepath.Join(dir, "data"), port, mport, secret)), 0o600)
	if err != nil {
		return nil, err
	}
	d := &daemon{
		cmd:        exec.Command(bin, "serve", "-config", config),
		webhookURL: fmt.Sprintf("http://127.0.0.1:%d/webhooks/nylas", port),
		metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", mport),
	}
	d.cmd.Stderr = os.Stderr
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port)); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return d, nil
			}
		}
		if time.Now().After(deadline) {
			d.stop()
			return nil, errors.New("daemon not ready within 30s")
		}
	}
}

func (d *daemon) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.cmd.Wait()
}

// commitStats reads the store writer's totals from the daemon's /metrics.
func (d *daemon) commitStats() (store.CommitStats, error) {
	var cs store.CommitStats
	resp, err := http.Get(d.metricsURL)
	if err != nil {
		return cs, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "notekeeper_store_commits_total":
			cs.Commits = int64(v)
		case "notekeeper_store_commit_writes_total":
			cs.Writes = int64(v)
		case "notekeeper_store_commit_seconds_total":
			cs.Busy = time.Duration(v * float64(time.Second))
		}
	}
	return cs, sc.Err()
}

// countStored opens the daemon's store (after it stopped) and counts the
// notifications.
func countStored(path string) (int, error) {
	db := store.NewDB(path)
	db.ReadOnly = true
	if err := db.Open(); err != nil {
		return 0, err
	}
	defer db.Close()
	c, err := db.Counts()
	return c.Notifications, err
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
