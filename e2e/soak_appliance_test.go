package e2e

// The appliance under soak: the real binary, started, SIGKILLed, stopped
// with SIGTERM and restarted on the same data dir, with its log kept in a
// ring for failure reports and its /metrics sampled over time.

import (
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/notekeeper/notekeeper/store"
)

// soakLogLines is how many log lines of the appliance the soak keeps.
const soakLogLines = 80

// soakLog keeps the last soakLogLines lines, across restarts.
type soakLog struct {
	mu    sync.Mutex
	lines []string
	next  int
}

// WriteLine keeps s, cut to 400 bytes.
func (l *soakLog) WriteLine(s string) {
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) < soakLogLines {
		l.lines = append(l.lines, s)
		return
	}
	l.lines[l.next] = s
	l.next = (l.next + 1) % soakLogLines
}

func (l *soakLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(append(append([]string(nil), l.lines[l.next:]...), l.lines[:l.next]...), "\n")
}

// soakAppliance runs the binary and counts what was done to it.
type soakAppliance struct {
	bin, config string
	env         []string
	log         soakLog

	mu     sync.Mutex
	proc   *daemon
	starts int
}

// start runs the binary and waits until it is ready (its log names its
// URL and /healthz answers).
func (a *soakAppliance) start() error {
	d, err := launch(a.bin, a.config, a.env, &a.log)
	if err != nil {
		return err
	}
	if err := d.waitReady(30 * time.Second); err != nil {
		d.kill()
		return err
	}
	a.mu.Lock()
	a.proc, a.starts = d, a.starts+1
	a.mu.Unlock()
	return nil
}

// url is the running appliance's base URL ("" between runs).
func (a *soakAppliance) url() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc == nil {
		return ""
	}
	return a.proc.url
}

// signal sends sig to the running appliance and waits for it to exit;
// after wait it is killed and signal reports false.
func (a *soakAppliance) signal(sig syscall.Signal, wait time.Duration) (error, bool) {
	a.mu.Lock()
	d := a.proc
	a.proc = nil
	a.mu.Unlock()
	if d == nil {
		return nil, true
	}
	d.signal(sig)
	if err, ok := d.wait(wait); ok {
		return err, true
	}
	d.kill()
	return nil, false
}

// kill SIGKILLs the appliance.
func (a *soakAppliance) kill() {
	a.signal(syscall.SIGKILL, 10*time.Second)
}

// stop sends SIGTERM and returns an error unless the appliance exited 0
// within the 30 s it has to drain (plus a margin).
func (a *soakAppliance) stop() error {
	err, ok := a.signal(syscall.SIGTERM, 35*time.Second)
	if !ok {
		return fmt.Errorf("still running 35s after SIGTERM")
	}
	if err != nil {
		return fmt.Errorf("exit after SIGTERM: %v", err)
	}
	return nil
}

// tasks lists the queue through the operator CLI (over the ops socket
// while the daemon runs).
func (a *soakAppliance) tasks() ([]store.Task, error) {
	return listTasks(a.bin, a.config)
}

// soakSample is one reading of the appliance's /metrics.
type soakSample struct {
	At         time.Duration // since the soak began
	RSS        float64       // process_resident_memory_bytes
	Goroutines float64       // go_goroutines
}

// scrape reads RSS and goroutines from the metrics listener.
func scrape(metricsURL string) (soakSample, error) {
	samples, err := scrapeMetrics(metricsURL)
	if err != nil {
		return soakSample{}, err
	}
	rss, ok1 := metricValue(samples, "process_resident_memory_bytes", nil)
	goroutines, ok2 := metricValue(samples, "go_goroutines", nil)
	if !ok1 || !ok2 {
		return soakSample{}, fmt.Errorf("metrics: process_resident_memory_bytes or go_goroutines missing")
	}
	return soakSample{RSS: rss, Goroutines: goroutines}, nil
}
