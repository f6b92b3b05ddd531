package e2e

// The harness every test of this package shares: the binary TestMain
// builds, starting and stopping `notekeeper serve` with its log captured,
// running the binary's other commands, free ports, config files, signed
// posts, Prometheus text scraping, waiting, and the missing-tool report
// that ends the run.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/store"
)

// e2eSecret is the webhook secret of every config writeE2EConfig writes.
const e2eSecret = "e2e-webhook-secret"

// binPath is the binary TestMain built ("" with -short: nothing is built).
var binPath string

// TestMain builds the binary once (`go build` of the module root, with the
// environment's CGO_ENABLED), runs the tests, removes the binary, and ends
// with the line naming the tools whose tests were skipped.
func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	flag.Parse()
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "notekeeper-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		binPath = filepath.Join(dir, "notekeeper")
		if out, err := exec.Command("go", "build", "-o", binPath, "..").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go build: %v\n%s", err, out)
			return 1
		}
	}
	code := m.Run()
	missing.report(code)
	return code
}

// binary is the built binary's path; with -short the test is skipped.
func binary(t testing.TB) string {
	t.Helper()
	if binPath == "" {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	return binPath
}

// missing collects, for the run's last line, the tools whose tests were
// skipped because they are not installed.
var missing = &missingTools{how: map[string]string{}}

type missingTools struct {
	mu  sync.Mutex
	how map[string]string // tool → how to get it
}

// needTool runs find, a lookup of tool that returns what the test needs or
// skips the test when the tool is missing (and fails it with CI=true), and
// notes tool and how to get it (howTo) when find skipped.
func needTool[T any](t *testing.T, tool, howTo string, find func(testing.TB) T) T {
	t.Helper()
	found := false
	t.Cleanup(func() {
		if !found && t.Skipped() {
			missing.add(tool, howTo)
		}
	})
	v := find(t)
	found = true
	return v
}

func (m *missingTools) add(tool, howTo string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.how[tool] = howTo
}

// line is "skipped for missing tools: a (how to get a), b (…)", or "".
func (m *missingTools) line() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var tools []string
	for tool, how := range m.how {
		tools = append(tools, tool+" ("+how+")")
	}
	if len(tools) == 0 {
		return ""
	}
	sort.Strings(tools)
	return "skipped for missing tools: " + strings.Join(tools, ", ")
}

// report prints line on stdout. go test shows a passing package's output
// only in directory mode (stdout is then the terminal) or with -v; in
// package list mode (`go test ./...`) it keeps just its "ok" line, so there
// the line also goes to the controlling terminal, when there is one.
func (m *missingTools) report(code int) {
	line := m.line()
	if line == "" {
		return
	}
	fmt.Println(line)
	if fi, err := os.Stdout.Stat(); code != 0 || testing.Verbose() || err != nil || fi.Mode()&os.ModeCharDevice != 0 {
		return
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		fmt.Fprintln(tty, line)
		tty.Close()
	}
}

// lineLog keeps what a daemon logs, line by line.
type lineLog interface {
	WriteLine(string)
	String() string
}

// syncBuffer is a bytes.Buffer safe for concurrent use, and a lineLog
// keeping every line.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) WriteLine(s string) { b.Write([]byte(s + "\n")) }

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// readyLine is what `notekeeper serve` logs once its listeners are up.
var readyLine = regexp.MustCompile(`notekeeper ready.* url=(https?://[^\s"]+)`)

// daemon is one run of `notekeeper serve`.
type daemon struct {
	cmd    *exec.Cmd
	url    string  // the URL of its ready line, once waitReady returned nil
	stderr lineLog // its log
	urls   chan string
	done   chan struct{} // closed once it has exited
	err    error         // the exit (nil for status 0), once done is closed
}

// launch starts `notekeeper serve -config config` (the binary at bin) with
// env added to the environment; every line it logs goes to log.
func launch(bin, config string, env []string, log lineLog) (*daemon, error) {
	cmd := exec.Command(bin, "serve", "-config", config)
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &daemon{cmd: cmd, stderr: log, urls: make(chan string, 1), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			log.WriteLine(line)
			if m := readyLine.FindStringSubmatch(line); m != nil {
				select {
				case d.urls <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr) // a line too long for the scanner must not block the daemon
	}()
	go func() { d.err = cmd.Wait(); pw.Close(); close(d.done) }()
	return d, nil
}

// waitReady waits until the daemon logs its URL and answers /healthz there.
func (d *daemon) waitReady(timeout time.Duration) error {
	select {
	case d.url = <-d.urls:
	case <-d.done:
		return fmt.Errorf("daemon exited before ready: %v", d.err)
	case <-time.After(timeout):
		return fmt.Errorf("daemon not ready after %s", timeout)
	}
	resp, err := http.Get(d.url + "/healthz")
	if err != nil {
		return fmt.Errorf("healthz: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("healthz: status %d", resp.StatusCode)
	}
	return nil
}

// startProcess launches the daemon (with env added to the environment) for
// the test, without waiting for it; cleanup kills it.
func startProcess(t *testing.T, configPath string, env ...string) *daemon {
	t.Helper()
	d, err := launch(binary(t), configPath, env, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.kill() })
	return d
}

// startDaemon runs `notekeeper serve` (with env added to the environment)
// and waits until it logs its URL and answers /healthz.
func startDaemon(t *testing.T, configPath string, env ...string) *daemon {
	t.Helper()
	d := startProcess(t, configPath, env...)
	if err := d.waitReady(30 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, d.stderr)
	}
	return d
}

// signal sends sig to the daemon.
func (d *daemon) signal(sig os.Signal) { d.cmd.Process.Signal(sig) }

// wait waits up to timeout for the daemon to exit and returns its exit
// (nil for status 0) and whether it exited.
func (d *daemon) wait(timeout time.Duration) (error, bool) {
	select {
	case <-d.done:
		return d.err, true
	case <-time.After(timeout):
		return nil, false
	}
}

// exited reports whether the daemon has exited.
func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// kill SIGKILLs the daemon and returns its exit.
func (d *daemon) kill() error {
	d.signal(syscall.SIGKILL)
	<-d.done
	return d.err
}

// stop sends SIGTERM and returns the exit error (nil for status 0); a
// daemon still running 35 s later (the 30 s drain and a margin) fails the
// test.
func (d *daemon) stop(t *testing.T) error {
	t.Helper()
	d.signal(syscall.SIGTERM)
	err, ok := d.wait(35 * time.Second)
	if !ok {
		t.Fatalf("daemon still running 35s after SIGTERM\n%s", d.stderr)
	}
	return err
}

// runBin runs the built binary with args and returns stdout, stderr and the
// exit status.
func runBin(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return stdout.String(), stderr.String(), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), 0
}

// mustRunBin is runBin that fails the test on a non-zero exit.
func mustRunBin(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runBin(t, args...)
	if code != 0 {
		t.Fatalf("notekeeper %v: exit %d\n%s%s", args, code, out, errOut)
	}
	return out
}

// listTasks lists the queue with `notekeeper tasks -json` (over the ops
// socket while the daemon runs, else on the store).
func listTasks(bin, config string) ([]store.Task, error) {
	out, err := exec.Command(bin, "tasks", "-json", "-config", config).Output()
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

// waitIdle polls `tasks -json` until the queue is empty: after that no
// more work can happen until something new arrives.
func waitIdle(t *testing.T, config string, d *daemon) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		tasks, err := listTasks(binary(t), config)
		if err != nil {
			t.Fatal(err)
		}
		if len(tasks) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tasks never finished\n%s", d.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitUntil polls cond until it holds or 20 s pass, when it fails the
// test, saying what it waited for.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// freeAddr is 127.0.0.1:{freePort}.
func freeAddr(t testing.TB) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(freePort(t))
}

// writeConfig writes toml as a config file in a fresh temporary directory
// and returns its path.
func writeConfig(t testing.TB, toml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeE2EConfig writes e2eConfig(dataDir).
func writeE2EConfig(t *testing.T, dataDir string) string {
	t.Helper()
	return writeConfig(t, e2eConfig(dataDir))
}

// e2eConfig is the config of a daemon on a random loopback port, with its
// data in dataDir and e2eSecret as webhook secret.
func e2eConfig(dataDir string) string {
	return fmt.Sprintf(`data_dir = %q
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
}

// writeE2EMediaConfig is writeE2EConfig pointed at a Nylas API stand-in
// (apiURL), with http media allowed, only kind archived, archiveLines added to
// [archive], tables appended, and your-company.example as internal domain.
func writeE2EMediaConfig(t *testing.T, dataDir, apiURL, kind, archiveLines, tables string) string {
	t.Helper()
	cfg := e2eConfig(dataDir)
	cfg = strings.Replace(cfg, "[nylas]\n", fmt.Sprintf("[nylas]\napi_base = %q\nallow_http_media = true\n", apiURL), 1)
	cfg = strings.Replace(cfg, "[archive]\n", fmt.Sprintf("[archive]\nkinds = [%q]\n%s", kind, archiveLines), 1)
	cfg = strings.Replace(cfg, "data_dir =", "internal_domains = [\"your-company.example\"]\ndata_dir =", 1)
	return writeConfig(t, cfg+tables)
}

// e2eCRMTable is the [crm] table for a CRM stand-in at url.
func e2eCRMTable(url string) string {
	return fmt.Sprintf("[crm]\nenabled = true\nbase_url = %q\napi_key = \"crm-key\"\n", url)
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

// postSigned posts body to url's webhook, signed with secret, and returns
// the status.
func postSigned(client *http.Client, url, secret string, body []byte) (int, error) {
	req, err := http.NewRequest("POST", url+"/webhooks/nylas", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Nylas-Signature", appliance.Sign(secret, body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// postNotification posts body signed with the e2e secret.
func postNotification(client *http.Client, url string, body []byte) (int, error) {
	return postSigned(client, url, e2eSecret, body)
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

// crmScene stands in for what a meeting's delivery to the CRM calls:
// signed storage serving its summary, the Nylas API answering its calendar
// event (one internal and one external participant), and a CRM that keeps
// its one meeting record and counts contact lookups and writes.
type crmScene struct {
	storage, api, crm *httptest.Server

	mu      sync.Mutex
	lookups int      // contact searches: one per run of the delivery
	writes  []string // "POST /api/meetings", …
	record  bool     // the meeting record exists
}

// newCRMScene starts the three stand-ins until the test's cleanup.
func newCRMScene(t *testing.T) *crmScene {
	t.Helper()
	c := &crmScene{}
	c.storage = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"summary":"Jo wants to renew."}`))
	}))
	t.Cleanup(c.storage.Close)
	c.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/events/") {
			fmt.Fprint(w, `{"data":{"title":"Acme renewal call","participants":[{"email":"sarah@your-company.example"},{"email":"jo@acme.example"}]}}`)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(c.api.Close)
	c.crm = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch {
		case r.URL.Path == "/api/contacts/search":
			c.lookups++
			fmt.Fprint(w, `{"results":[{"id":"c-jo","primary_deal_id":"d-1"}]}`)
		case r.Method == "GET" && r.URL.Path == "/api/meetings":
			if c.record {
				fmt.Fprint(w, `{"results":[{"id":"m1"}]}`)
			} else {
				fmt.Fprint(w, `{"results":[]}`)
			}
		case r.Method == "POST" || r.Method == "PATCH":
			c.writes = append(c.writes, r.Method+" "+r.URL.Path)
			c.record = true
			fmt.Fprint(w, `{"id":"m1"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(c.crm.Close)
	return c
}

// state returns the contact lookups and the writes so far.
func (c *crmScene) state() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookups, append([]string(nil), c.writes...)
}

// config writes the config of a daemon archiving summaries from the scene
// and delivering them to its CRM.
func (c *crmScene) config(t *testing.T, dataDir string) string {
	t.Helper()
	return writeE2EMediaConfig(t, dataDir, c.api.URL, "summary", "", e2eCRMTable(c.crm.URL))
}

// available is a notetaker.media notification (envelope id) saying the
// media of Notetaker nt, whose event is the scene's, is available: kind →
// path on the scene's storage.
func (c *crmScene) available(id, nt string, at int64, media map[string]string) []byte {
	links := map[string]string{}
	for kind, path := range media {
		links[kind] = c.storage.URL + path
	}
	body, _ := json.Marshal(map[string]any{"specversion": "1.0", "type": "notetaker.media", "id": id, "time": at,
		"data": map[string]any{"object": map[string]any{"id": nt, "grant_id": "grant-1", "state": "available",
			"event": map[string]string{"event_id": "evt-1"}, "media": links}}})
	return body
}

// scrapeMetrics reads and parses a /metrics page.
func scrapeMetrics(url string) (map[string]*dto.MetricFamily, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(io.LimitReader(resp.Body, 4<<20))
}

// metricValue returns the value of family{labels} in families: a counter's
// or gauge's value, a histogram's count.
func metricValue(families map[string]*dto.MetricFamily, family string, labels map[string]string) (float64, bool) {
	f := families[family]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		for _, lp := range m.GetLabel() {
			if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}
