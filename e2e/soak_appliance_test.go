package e2e

// The appliance under soak: the real binary, started, SIGKILLed, stopped
// with SIGTERM and restarted on the same data dir, with its log kept in a
// ring for failure reports and its /metrics sampled over time.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
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

func (l *soakLog) add(s string) {
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

// soakProc is one run of the binary.
type soakProc struct {
	cmd    *exec.Cmd
	url    string
	exited chan error // receives the exit once, then is closed
}

// soakAppliance runs the binary and counts what was done to it.
type soakAppliance struct {
	bin, config string
	env         []string
	log         soakLog

	mu     sync.Mutex
	proc   *soakProc
	starts int
}

// start runs the binary and waits until it is ready (its log names its
// URL and /healthz answers).
func (a *soakAppliance) start() error {
	cmd := exec.Command(a.bin, "serve", "-config", a.config)
	cmd.Env = append(os.Environ(), a.env...)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &soakProc{cmd: cmd, exited: make(chan error, 1)}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			a.log.add(line)
			if m := readyLine.FindStringSubmatch(line); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() { err := cmd.Wait(); pw.Close(); p.exited <- err; close(p.exited) }()
	select {
	case p.url = <-urls:
	case err := <-p.exited:
		return fmt.Errorf("appliance exited before ready: %v", err)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return fmt.Errorf("appliance not ready after 30s")
	}
	resp, err := http.Get(p.url + "/healthz")
	if err != nil {
		return fmt.Errorf("healthz: %w", err)
	}
	resp.Body.Close()
	a.mu.Lock()
	a.proc, a.starts = p, a.starts+1
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

// signal sends sig to the running appliance and waits for it to exit.
func (a *soakAppliance) signal(sig syscall.Signal, wait time.Duration) (error, bool) {
	a.mu.Lock()
	p := a.proc
	a.proc = nil
	a.mu.Unlock()
	if p == nil {
		return nil, true
	}
	p.cmd.Process.Signal(sig)
	select {
	case err := <-p.exited:
		return err, true
	case <-time.After(wait):
		p.cmd.Process.Kill()
		<-p.exited
		return nil, false
	}
}

// kill SIGKILLs the appliance.
func (a *soakAppliance) kill() {
	a.signal(syscall.SIGKILL, 10*time.Second)
}

// stop sends SIGTERM and returns an error unless the appliance exited 0
// within SPEC §4's 30 s (plus a margin).
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
	out, err := exec.Command(a.bin, "tasks", "-json", "-config", a.config).Output()
	if err != nil {
		return nil, fmt.Errorf("notekeeper tasks -json: %w", err)
	}
	var tasks []store.Task
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var t store.Task
		if err := dec.Decode(&t); err != nil {
			return nil, fmt.Errorf("notekeeper tasks -json: %w", err)
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// soakSample is one reading of the appliance's /metrics.
type soakSample struct {
	At         time.Duration // since the soak began
	RSS        float64       // process_resident_memory_bytes
	Goroutines float64       // go_goroutines
}

// scrape reads RSS and goroutines from the metrics listener.
func scrape(metricsURL string) (soakSample, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(metricsURL)
	if err != nil {
		return soakSample{}, err
	}
	defer resp.Body.Close()
	var s soakSample
	found := 0
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			s.RSS, found = v, found+1
		case "go_goroutines":
			s.Goroutines, found = v, found+1
		}
	}
	if found != 2 {
		return s, fmt.Errorf("metrics: process_resident_memory_bytes or go_goroutines missing")
	}
	return s, nil
}
