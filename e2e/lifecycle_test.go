package e2e

// The daemon's life under load: kill -9 and SIGTERM while notifications
// arrive lose none that were acknowledged, and a second instance on the same
// data dir fails fast.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/store/storetest"
)

// checkAcknowledged opens the (stopped) daemon's store and proves that every
// acknowledged notification is stored and that its task either ran (the
// Notetaker record lists it) or is still queued; then it runs the queue to
// the end in-process and proves every one was applied.
func checkAcknowledged(t *testing.T, dataDir string, acked map[string]int) {
	t.Helper()
	db := storetest.MustOpenAt(t, filepath.Join(dataDir, "notekeeper.db"))
	queued := map[uint64]bool{}
	tasks, err := db.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if task.Dead {
			t.Errorf("dead-lettered task %s: %s", task.Key(), task.LastError)
		}
		for _, r := range task.Refs {
			queued[r] = true
		}
	}
	applied := func(seq uint64, subject int) bool {
		nt, err := db.Notetaker(fmt.Sprintf("nt-%d", subject))
		if err != nil {
			return false
		}
		for _, s := range nt.Seqs {
			if s == seq {
				return true
			}
		}
		return false
	}
	pending := 0
	for id, subject := range acked {
		seq, err := db.NotificationSeq(id)
		if err != nil {
			t.Fatalf("acknowledged notification %s lost: %v", id, err)
		}
		if !applied(seq, subject) {
			if !queued[seq] {
				t.Fatalf("acknowledged notification %s (seq %d) neither applied nor queued", id, seq)
			}
			pending++
		}
	}
	t.Logf("%d acknowledged notifications stored; %d applied, %d still queued", len(acked), len(acked)-pending, pending)

	pool := appliance.NewPool(db)
	(&appliance.Records{DB: db}).Register(pool)
	pool.Open()
	defer pool.Close(context.Background())
	deadline := time.Now().Add(30 * time.Second)
	for {
		tasks, _ := db.Tasks()
		if len(tasks) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tasks never finished", len(tasks))
		}
		time.Sleep(10 * time.Millisecond)
	}
	for id, subject := range acked {
		seq, _ := db.NotificationSeq(id)
		if !applied(seq, subject) {
			t.Fatalf("notification %s never applied", id)
		}
	}
}

func TestE2E_NoLossUnderKill9(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	config := writeE2EConfig(t, dataDir)
	d := startDaemon(t, config)

	const total, senders, killAfter = 3000, 32, 1000
	var (
		mu    sync.Mutex
		acked = map[string]int{}
		n     atomic.Int64
		wg    sync.WaitGroup
	)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}, Timeout: 15 * time.Second}
	killed := make(chan struct{})
	var killOnce sync.Once
	for range senders {
		wg.Go(func() {
			for {
				i := int(n.Add(1))
				if i > total {
					return
				}
				id := fmt.Sprintf("ntf-kill-%05d", i)
				status, err := postNotification(client, d.url, e2eNotification(id, i%250))
				if err != nil {
					select {
					case <-killed:
						return // the daemon is gone; unacknowledged, so Nylas would retry
					default:
						t.Errorf("post %s: %v", id, err)
						return
					}
				}
				if status != 200 {
					t.Errorf("post %s: status %d", id, status)
					return
				}
				mu.Lock()
				acked[id] = i % 250
				if len(acked) == killAfter {
					killOnce.Do(func() {
						close(killed) // first: a sender that sees its connection die must know why
						d.signal(syscall.SIGKILL)
					})
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err, _ := d.wait(time.Minute); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("daemon was not killed: %v", err)
	}
	if len(acked) < killAfter {
		t.Fatalf("only %d acknowledged before the kill", len(acked))
	}

	// Restart on the same data dir: the lock is free, leases come back, the
	// queued tasks run.
	d = startDaemon(t, config)
	if status, err := postNotification(client, d.url, e2eNotification("ntf-after-restart", 1)); err != nil || status != 200 {
		t.Fatalf("after restart: %d %v", status, err)
	}
	acked["ntf-after-restart"] = 1
	time.Sleep(500 * time.Millisecond) // let the workers run some of the backlog
	if err := d.stop(t); err != nil {
		t.Fatalf("graceful stop after restart: %v\n%s", err, d.stderr)
	}
	checkAcknowledged(t, dataDir, acked)
}

func TestE2E_GracefulStopAnswersInFlight(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	config := writeE2EConfig(t, dataDir)
	d := startDaemon(t, config)
	addr := strings.TrimPrefix(d.url, "http://")

	// Requests whose first half is on the wire when SIGTERM arrives: the
	// daemon must read the rest and answer each with 200.
	const slow = 8
	type half struct {
		conn net.Conn
		rest []byte
		id   string
	}
	halves := make([]half, slow)
	for i := range halves {
		id := fmt.Sprintf("ntf-slow-%d", i)
		body := e2eNotification(id, i)
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		head := fmt.Sprintf("POST /webhooks/nylas HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
			"X-Nylas-Signature: %s\r\nContent-Length: %d\r\n\r\n", addr, appliance.Sign(e2eSecret, body), len(body))
		if _, err := conn.Write(append([]byte(head), body[:len(body)/2]...)); err != nil {
			t.Fatal(err)
		}
		halves[i] = half{conn: conn, rest: body[len(body)/2:], id: id}
	}

	// And a burst of ordinary traffic around the signal.
	var (
		mu    sync.Mutex
		acked = map[string]int{}
		wg    sync.WaitGroup
		stop  atomic.Bool
	)
	client := &http.Client{Timeout: 15 * time.Second}
	for g := range 16 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				id := fmt.Sprintf("ntf-burst-%d-%d", g, i)
				status, err := postNotification(client, d.url, e2eNotification(id, g))
				if err != nil {
					return // refused once the listener closed: not acknowledged
				}
				if status != 200 {
					t.Errorf("%s: status %d during shutdown", id, status)
					return
				}
				mu.Lock()
				acked[id] = g
				mu.Unlock()
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	d.signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond) // the daemon is now draining

	for _, h := range halves {
		if _, err := h.conn.Write(h.rest); err != nil {
			t.Fatalf("%s: finishing the body: %v", h.id, err)
		}
		h.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(h.conn), nil)
		if err != nil {
			t.Fatalf("%s: in-flight request not answered: %v", h.id, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", h.id, resp.StatusCode)
		}
	}
	stop.Store(true)
	wg.Wait()
	for i := range slow {
		acked[fmt.Sprintf("ntf-slow-%d", i)] = i
	}

	if err, exited := d.wait(30 * time.Second); !exited {
		t.Fatal("not exited 30s after SIGTERM")
	} else if err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, d.stderr)
	}
	// A clean restart: the lock was released and the store is consistent.
	d = startDaemon(t, config)
	resp, err := http.Get(d.url + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz after restart: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	checkAcknowledged(t, dataDir, acked)
}

func TestE2E_SecondInstanceFailsFast(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	config := writeE2EConfig(t, dataDir)
	startDaemon(t, config)
	start := time.Now()
	out, err := exec.Command(binary(t), "serve", "-config", config).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("second instance: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "already running") || time.Since(start) > 10*time.Second {
		t.Fatalf("second instance took %v and said:\n%s", time.Since(start), out)
	}
}
