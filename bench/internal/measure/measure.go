// Package measure holds what the benchmarks under bench/ share: reading a
// process's memory from /proc, reading and printing sizes, building and
// running the real binary.
package measure

import (
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
)

// PeakRSS is this process's peak resident set (VmHWM), in bytes; 0 when
// /proc cannot be read.
func PeakRSS() int64 {
	_, hwm, _ := Memory(os.Getpid())
	return hwm
}

// Memory reads the resident set (VmRSS) and its peak (VmHWM) of process
// pid, in bytes.
func Memory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			hwm = kb << 10
		}
	}
	return rss, hwm, nil
}

// ParseSize reads a -size flag: bytes, or a number with KiB, MiB or GiB.
func ParseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if v, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = v, m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad -size %q", s)
	}
	return n * mult, nil
}

// FormatSize prints n bytes as "1.0 GiB", "9.4 MiB" or "512 B".
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d B", n)
}

// AnonRSS reads the anonymous part of process pid's resident set (RssAnon:
// heap, stacks; not the file pages of the mapped store), in bytes.
func AnonRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "RssAnon:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no RssAnon in /proc/%d/status", pid)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Build builds the notekeeper binary (the module root, the current
// directory) into dir and returns its path.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "notekeeper")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build: %v\n%s", err, out)
	}
	return bin, nil
}

// Daemon is `notekeeper serve` run as its own process.
type Daemon struct {
	Bin, Config string
	ReadyURL    string // polled until it answers 200
	Cmd         *exec.Cmd
}

// Start execs the daemon and returns the time until ReadyURL answers 200
// (polled every millisecond, for at most timeout).
func (d *Daemon) Start(timeout time.Duration) (time.Duration, error) {
	d.Cmd = exec.Command(d.Bin, "serve", "-config", d.Config)
	d.Cmd.Stderr = os.Stderr
	start := time.Now()
	if err := d.Cmd.Start(); err != nil {
		return 0, err
	}
	client := &http.Client{Timeout: time.Second}
	for deadline := start.Add(timeout); ; time.Sleep(time.Millisecond) {
		if resp, err := client.Get(d.ReadyURL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(start), nil
			}
		}
		if time.Now().After(deadline) {
			d.Stop()
			return 0, fmt.Errorf("not ready within %s", timeout)
		}
	}
}

// Stop sends SIGTERM and waits for the process; it is safe to call again.
func (d *Daemon) Stop() {
	if d.Cmd != nil && d.Cmd.Process != nil {
		d.Cmd.Process.Signal(syscall.SIGTERM)
		d.Cmd.Wait()
		d.Cmd = nil
	}
}

// DaemonConfig is what differs between the benchmarks' daemons; NewDaemon
// writes the rest (a warn-level log, a listener and a metrics listener on
// free ports, every job off, no free-space floor).
type DaemonConfig struct {
	DataDir string
	Secret  string // the webhook secret
	Nylas   string // more lines for [nylas]
	Archive string // more lines for [archive]
	Extra   string // more tables
}

// NewDaemon builds the binary into dir and writes dir/config.toml for c.
// URL is the listener's base URL, MetricsURL the metrics listener's
// /metrics.
func NewDaemon(dir string, c DaemonConfig) (d *Daemon, url, metricsURL string, err error) {
	bin, err := Build(dir)
	if err != nil {
		return nil, "", "", err
	}
	port, err := FreePort()
	if err != nil {
		return nil, "", "", err
	}
	mport, err := FreePort()
	if err != nil {
		return nil, "", "", err
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
%s
[archive]
min_free_bytes = 0
%s
[jobs]
refresh_media = ""
archive_sweep = ""
reconcile = ""
webhook_watchdog = ""
backup = ""
retention = ""
%s`, c.DataDir, port, mport, c.Secret, c.Nylas, c.Archive, c.Extra)), 0o600)
	if err != nil {
		return nil, "", "", err
	}
	url = fmt.Sprintf("http://127.0.0.1:%d", port)
	return &Daemon{Bin: bin, Config: config, ReadyURL: url + "/readyz"}, url, fmt.Sprintf("http://127.0.0.1:%d/metrics", mport), nil
}
