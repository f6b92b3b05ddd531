package e2e

// End-to-end tests: they build the real binary, run it as a child process
// against a temporary data dir and talk to it over HTTP, as Nylas would.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/store/storetest"
)

const e2eSecret = "e2e-webhook-secret"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds notekeeper once per test run and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "notekeeper-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "notekeeper")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// writeE2EConfig writes a config for a daemon on a random loopback port.
func writeE2EConfig(t *testing.T, dataDir string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	cfg := fmt.Sprintf(`data_dir = %q
[log]
level = "info"
[server]
listen = "127.0.0.1:0"
[nylas]
api_key = "e2e-api-key"
webhook_secrets = [%q]
[archive]
min_free_bytes = 0
[tasks]
workers = 4
`, dataDir, e2eSecret)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeE2EMediaConfig is writeE2EConfig pointed at a Nylas API stand-in
// (apiURL), with http media allowed, only kind archived, archiveLines added to
// [archive], tables appended, and your-company.example as internal domain.
func writeE2EMediaConfig(t *testing.T, dataDir, apiURL, kind, archiveLines, tables string) string {
	t.Helper()
	config := writeE2EConfig(t, dataDir)
	cfg, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte("[nylas]\n"), []byte(fmt.Sprintf("[nylas]\napi_base = %q\nallow_http_media = true\n", apiURL)), 1)
	cfg = bytes.Replace(cfg, []byte("[archive]\n"), []byte(fmt.Sprintf("[archive]\nkinds = [%q]\n%s", kind, archiveLines)), 1)
	cfg = bytes.Replace(cfg, []byte("data_dir ="), []byte("internal_domains = [\"your-company.example\"]\ndata_dir ="), 1)
	cfg = append(cfg, tables...)
	if err := os.WriteFile(config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	return config
}

// e2eCRMTable is the [crm] table for a CRM stand-in at url.
func e2eCRMTable(url string) string {
	return fmt.Sprintf("[crm]\nenabled = true\nbase_url = %q\napi_key = \"crm-key\"\n", url)
}

// recordingMediaAPI stands in for the Nylas media endpoint: every
// /…/media request gets fresh links naming storageURL/rec.mp4 of size bytes.
func recordingMediaAPI(t *testing.T, storageURL string, size int) *httptest.Server {
	t.Helper()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/media") {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"recording": map[string]any{
			"url": storageURL + "/rec.mp4", "size": size, "type": "video/mp4",
			"expires_at": time.Now().Add(14 * 24 * time.Hour).Unix()}}})
	}))
	t.Cleanup(api.Close)
	return api
}

// daemon is a running notekeeper process.
type daemon struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	exited chan error
}

var readyLine = regexp.MustCompile(`notekeeper ready.* url=(http://[0-9.:]+)`)

// startDaemon runs `notekeeper serve` (with env added to the environment) and waits until it logs its URL and
// answers /healthz.
func startDaemon(t *testing.T, configPath string, env ...string) *daemon {
	t.Helper()
	cmd := exec.Command(binary(t), "serve", "-config", configPath)
	cmd.Env = append(os.Environ(), env...)
	d := &daemon{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			d.stderr.WriteLine(line)
			if m := readyLine.FindStringSubmatch(line); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { d.exited <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-d.exited
	})
	select {
	case d.url = <-urls:
	case err := <-d.exited:
		d.exited <- err
		t.Fatalf("daemon exited before ready: %v\n%s", err, d.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("daemon not ready after 30s\n%s", d.stderr)
	}
	resp, err := http.Get(d.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	return d
}

// stop sends SIGTERM and returns the exit error (nil for status 0).
func (d *daemon) stop(t *testing.T) error {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		d.exited <- err
		return err
	case <-time.After(35 * time.Second):
		t.Fatalf("daemon still running 35s after SIGTERM\n%s", d.stderr)
		return nil
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) WriteLine(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s + "\n")
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// e2eNotification is a signed meeting_state notification for Notetaker
// nt-{subject}, about 1 KB like a real one.
func e2eNotification(id string, subject int) []byte {
	return []byte(fmt.Sprintf(`{"specversion":"1.0","type":"notetaker.meeting_state","source":"/nylas/notetaker","id":%q,`+
		`"time":%d,"webhook_delivery_attempt":1,"data":{"application_id":"app-e2e","object":{"id":"nt-%d",`+
		`"grant_id":"grant-e2e","object":"notetaker","meeting_provider":"Google Meet","meeting_link":"https://meet.google.com/abc-defg-hij",`+
		`"join_time":1737500936,"event":{"ical_uid":"e2e@google.com","event_id":"evt-%d","master_event_id":"evt-%d"},`+
		`"state":"attending","status":"attending","meeting_state":"recording_active"}}}`,
		id, 1737500000+subject, subject, subject, subject))
}

// postNotification posts body signed with the e2e secret.
func postNotification(client *http.Client, url string, body []byte) (int, error) {
	req, err := http.NewRequest("POST", url+"/webhooks/nylas", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Nylas-Signature", appliance.Sign(e2eSecret, body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

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
						d.cmd.Process.Signal(syscall.SIGKILL)
					})
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := <-d.exited; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("daemon was not killed: %v", err)
	}
	d.exited <- nil
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
	d.cmd.Process.Signal(syscall.SIGTERM)
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

	select {
	case err := <-d.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, d.stderr)
		}
		d.exited <- err
	case <-time.After(30 * time.Second):
		t.Fatal("not exited 30s after SIGTERM")
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
