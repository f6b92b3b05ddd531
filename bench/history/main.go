// Command history measures what a store holding years of history costs:
// a store seeded with -notifications stored notifications and -meetings
// archived meetings (plus -pending meetings whose archive is pending), then
// one archive_sweep, one /metrics scrape, the admin meetings page, start-up
// to ready of the real binary, its idle anonymous memory, its anonymous
// memory while it archives a -recording-byte recording, and the store's size
// against the raw notification bytes. Each figure is printed beside its goal.
//
// The store is seeded by writing bbolt directly in large transactions
// (store.DB.Load), not through HTTP, and kept in -dir between runs, so only
// the first run pays for it.
//
//	go run ./bench/history -dir /var/tmp/notekeeper-bench-history
//
// The previous version's figures in docs/PERFORMANCE.md come from the same
// program run from a checkout of that version (its seed step replaced by
// reading the kept raw-bytes file) over a copy of the kept store taken back
// to schema 2: the buckets the counters migration (now schema 5) added deleted and meta schema_version
// set to 2 (that version reads no notification body in these steps).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/bench/internal/measure"
	"github.com/notekeeper/notekeeper/store"
)

const (
	secret        = "bench-secret"
	adminPassword = "bench-admin"
)

type options struct {
	notifications, meetings, pending int
	size                             int
	dir                              string
	recording                        int64
	runs                             int
	idle                             time.Duration
}

func main() {
	var o options
	flag.IntVar(&o.notifications, "notifications", 1_000_000, "notifications stored")
	flag.IntVar(&o.meetings, "meetings", 100_000, "archived meetings stored")
	flag.IntVar(&o.pending, "pending", 10, "meetings whose archive is pending")
	flag.IntVar(&o.size, "size", 3000, "approximate bytes per notification")
	flag.StringVar(&o.dir, "dir", "", "directory kept between runs (default: a temporary one, removed)")
	rec := flag.String("recording", "512MiB", "size of the recording archived while memory is watched")
	flag.IntVar(&o.runs, "runs", 5, "repetitions of each timed step (the median is printed)")
	flag.DurationVar(&o.idle, "idle", 5*time.Second, "idle time before the idle memory is read")
	flag.Parse()
	var err error
	if o.recording, err = measure.ParseSize(*rec); err == nil {
		err = run(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "history:", err)
		os.Exit(1)
	}
}

// figure is one measured value and its goal.
type figure struct {
	name  string
	value string
	goal  string
	met   bool
}

func (f figure) String() string {
	verdict := "met"
	if !f.met {
		verdict = "NOT MET"
	}
	return fmt.Sprintf("%-36s %14s   goal %-10s %s", f.name, f.value, f.goal, verdict)
}

func run(o options) error {
	if o.dir == "" {
		d, err := os.MkdirTemp("", "notekeeper-bench-history-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		o.dir = d
	}
	dataDir := filepath.Join(o.dir, "data")
	dbPath := filepath.Join(dataDir, "notekeeper.db")
	media, err := startMedia(o.recording)
	if err != nil {
		return err
	}
	defer media.Close()
	raw, err := seed(dbPath, o, media.URL)
	if err != nil {
		return err
	}
	fi, err := os.Stat(dbPath)
	if err != nil {
		return err
	}
	fmt.Printf("history benchmark: %d notifications (~%d bytes), %d archived meetings, %d pending; store %s\n\n",
		o.notifications, o.size, o.meetings, o.pending, measure.FormatSize(fi.Size()))

	var figs []figure
	sweep, scan, err := timeSweep(dbPath, o.runs)
	if err != nil {
		return err
	}
	figs = append(figs, figure{"archive_sweep (one run)", short(sweep), "≤ 50ms", sweep <= 50*time.Millisecond})
	fmt.Printf("(reference: decoding every Notetaker, as the sweep did before the index, takes %s)\n", scan.Round(time.Millisecond))

	d, err := newDaemon(o.dir, dataDir, media.URL)
	if err != nil {
		return err
	}
	var readies []time.Duration
	for i := range o.runs {
		ready, err := d.Start(60 * time.Second)
		if err != nil {
			return err
		}
		readies = append(readies, ready)
		if i < o.runs-1 {
			d.Stop()
		}
	}
	defer d.Stop()
	ready := median(readies)
	figs = append(figs, figure{"start-up to ready (median)", ready.Round(time.Millisecond).String(), "≤ 300ms", ready <= 300*time.Millisecond})

	time.Sleep(o.idle)
	idle, err := measure.AnonRSS(d.Cmd.Process.Pid)
	if err != nil {
		return err
	}
	figs = append(figs, figure{"idle anonymous RSS", measure.FormatSize(idle), "≤ 30 MiB", idle <= 30<<20})

	scrape, err := d.timeGet(d.metricsURL, false, o.runs)
	if err != nil {
		return err
	}
	figs = append(figs, figure{"/metrics scrape (median)", short(scrape), "≤ 10ms", scrape <= 10*time.Millisecond})
	page, err := d.timeGet(d.url+"/admin/meetings", true, o.runs)
	if err != nil {
		return err
	}
	figs = append(figs, figure{"admin meetings page (median)", short(page), "≤ 50ms", page <= 50*time.Millisecond})

	peak, took, err := d.archive(media, o.recording)
	if err != nil {
		return err
	}
	figs = append(figs, figure{fmt.Sprintf("anonymous RSS archiving %s", measure.FormatSize(o.recording)), measure.FormatSize(peak), "≤ 64 MiB", peak <= 64<<20})
	fmt.Printf("(the recording took %s to archive)\n", took.Round(time.Millisecond))

	if fi, err = os.Stat(dbPath); err != nil {
		return err
	}
	ratio := float64(fi.Size()) / float64(raw)
	figs = append(figs, figure{"store size / raw notification bytes", fmt.Sprintf("%.2f", ratio), "≤ 1.2", ratio <= 1.2})
	fmt.Printf("(store %s, raw notification bytes %s: %.0f bytes per notification stored)\n\n",
		measure.FormatSize(fi.Size()), measure.FormatSize(raw), float64(fi.Size())/float64(o.notifications))

	fmt.Printf("%-36s %14s   %-15s %s\n", "figure", "value", "goal", "")
	for _, f := range figs {
		fmt.Println(f)
	}
	return nil
}

// short rounds d to three or four significant digits.
func short(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// seed fills the store unless it already holds the notifications, and
// returns the raw bytes of the notification bodies (as sent).
func seed(path string, o options, mediaURL string) (int64, error) {
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		return 0, err
	}
	defer db.Close()
	c, err := db.Counts()
	if err != nil {
		return 0, err
	}
	rawFile := path + ".raw-bytes"
	if c.Notifications >= o.notifications && c.Notetakers >= o.meetings+o.pending {
		b, err := os.ReadFile(rawFile)
		if err != nil {
			return 0, fmt.Errorf("seeded store without %s: remove the dir", rawFile)
		}
		return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	}
	if c.Notifications > 0 {
		return 0, fmt.Errorf("%s holds a partial seed: remove it", path)
	}
	fmt.Printf("seeding %s…\n", path)
	start := time.Now()
	rng := rand.New(rand.NewPCG(7, 11))
	now := time.Now()
	first := now.Add(-5 * 365 * 24 * time.Hour)
	var raw int64
	err = db.Load(20000, func(l *store.Loader) error {
		for i := range o.notifications {
			body := notificationBody(rng, i, o.size)
			raw += int64(len(body))
			at := first.Add(time.Duration(i) * (now.Sub(first) / time.Duration(o.notifications)))
			if err := l.Notification(store.Notification{ID: fmt.Sprintf("ntf-%09d", i), Type: "notetaker.media",
				ReceivedAt: at, Signature: appliance.Sign(secret, body), Body: body}); err != nil {
				return err
			}
		}
		for i := range o.meetings + o.pending {
			if err := l.Notetaker(meeting(rng, i, o, first, now, mediaURL)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	fmt.Printf("seeded in %s\n", time.Since(start).Round(time.Second))
	return raw, os.WriteFile(rawFile, []byte(strconv.FormatInt(raw, 10)), 0o600)
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randString(rng *rand.Rand, n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

var words = strings.Fields("the meeting agenda quarterly review customer pipeline renewal pricing follow up action item " +
	"owner deadline budget roadmap integration onboarding contract proposal demo feedback team schedule next steps " +
	"question answer discussed agreed timeline launch support ticket escalation forecast hiring interview candidate")

// notificationBody is a notetaker.media notification shaped like Nylas'
// (fixtures/notetaker-media-available.json): random ids, five signed media
// links with 256-hex-digit signatures, and meeting text up to size bytes.
func notificationBody(rng *rand.Rand, i, size int) []byte {
	nt := "nt" + randString(rng, 20, alnum)
	var b strings.Builder
	fmt.Fprintf(&b, `{"specversion":"1.0","type":"notetaker.media","source":"/nylas/notetaker","id":"ntf-%09d","time":%d,`+
		`"webhook_delivery_attempt":1,"data":{"application_id":"app-%s","object":{"id":%q,"grant_id":"%s",`+
		`"object":"notetaker","meeting_provider":"Google Meet","meeting_link":"https://meet.google.com/%s",`+
		`"join_time":%d,"event":{"ical_uid":"%s@google.com","event_id":"%s"},"state":"available","status":"available","media":{`,
		i, 1737500000+i*60, randString(rng, 8, alnum), nt, randString(rng, 24, alnum), randString(rng, 12, "abcdefghijklmnopqrstuvwxyz"),
		1737500000+i*60-1800, randString(rng, 26, alnum), randString(rng, 26, alnum))
	for j, kind := range []string{"recording", "thumbnail", "transcript", "summary", "action_items"} {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%q:"https://storage.googleapis.com/nylas-notetaker/%s/%s?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Date=20250122T000000Z&X-Goog-Expires=3600&X-Goog-Signature=%s"`,
			kind, nt, kind, randString(rng, 256, "0123456789abcdef"))
	}
	fmt.Fprintf(&b, `,"recording_duration":"%d","recording_file_format":"mp4","retained_until":%d},"notes":"`, 600+rng.IntN(3000), 1738714136+i*60)
	for b.Len() < size-4 {
		b.WriteString(words[rng.IntN(len(words))])
		b.WriteByte(' ')
	}
	b.WriteString(`"}}}`)
	return []byte(b.String())
}

// meeting is meeting number i: archived long ago, or (the last o.pending)
// available and not archived, with links to the local media server.
func meeting(rng *rand.Rand, i int, o options, first, now time.Time, mediaURL string) *store.Notetaker {
	at := first.Add(time.Duration(i) * (now.Sub(first) / time.Duration(o.meetings+o.pending)))
	nt := &store.Notetaker{
		ID: fmt.Sprintf("ntHist%07d", i), GrantID: "grant-bench", State: "available", MeetingState: "call_ended",
		MeetingProvider: "Google Meet", MeetingLink: "https://meet.google.com/" + randString(rng, 12, "abcdefghijklmnopqrstuvwxyz"),
		JoinTime: at, Event: store.EventLink{EventID: randString(rng, 26, alnum), ICalUID: randString(rng, 26, alnum) + "@google.com"},
		MediaStatus: "available", FirstSeen: at, UpdatedAt: at.Add(time.Hour), Seqs: []uint64{uint64(i*10 + 1), uint64(i*10 + 2)},
	}
	nt.AvailableAt = at.Add(time.Hour)
	nt.DeletesAt = nt.AvailableAt.Add(store.DefaultRetention)
	if i < o.meetings {
		nt.Media = store.MediaLinks{URLs: map[string]string{"recording": "https://storage.googleapis.com/x/" + nt.ID + "/recording"}, FetchedAt: nt.AvailableAt, Source: "webhook"}
		nt.Archived = map[string]store.ArchivedFile{"recording": {Name: "recording.mp4", Bytes: 200 << 20,
			SHA256: randString(rng, 64, "0123456789abcdef"), ArchivedAt: nt.AvailableAt.Add(10 * time.Minute)}}
		nt.ArchiveDone = true
		return nt
	}
	// Pending: available an hour ago; links minted long ago, so a sweep
	// would refresh them; deadlines from 1 to 10 days out.
	j := i - o.meetings
	nt.AvailableAt = now.Add(-time.Hour)
	nt.DeletesAt = now.Add(time.Duration(24*(j+1)) * time.Hour)
	nt.Media = store.MediaLinks{URLs: map[string]string{"recording": mediaURL + "/" + nt.ID + "/recording.mp4"},
		FetchedAt: nt.AvailableAt, Source: "webhook"}
	return nt
}

// timeSweep runs the archive_sweep job runs times over the store (no daemon
// running) and returns the median, and the time a full decode of every
// Notetaker takes for reference.
func timeSweep(path string, runs int) (time.Duration, time.Duration, error) {
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		return 0, 0, err
	}
	defer db.Close()
	a := &appliance.Archiver{DB: db, Kinds: []string{"recording"}, AtRisk: 72 * time.Hour,
		Logger: slog.New(slog.DiscardHandler), Now: time.Now}
	var ds []time.Duration
	for range runs {
		start := time.Now()
		if err := a.Sweep(context.Background()); err != nil {
			return 0, 0, fmt.Errorf("sweep: %w", err)
		}
		ds = append(ds, time.Since(start))
	}
	start := time.Now()
	if _, err := db.Notetakers(); err != nil {
		return 0, 0, err
	}
	scan := time.Since(start)
	// The sweep queued the pending archives; their links are old and the
	// stand-in Nylas API knows none of them, so put them off for a day:
	// the daemon measured next is idle.
	for {
		tasks, _, err := db.Lease(100, time.Minute)
		if err != nil || len(tasks) == 0 {
			return median(ds), scan, err
		}
		for _, t := range tasks {
			if err := db.Postpone(t, "bench: put off", time.Now().Add(24*time.Hour)); err != nil {
				return 0, 0, err
			}
		}
	}
}

// mediaServer serves a generated recording of a fixed size at any path and
// counts the bytes it sent.
type mediaServer struct {
	URL  string
	srv  *http.Server
	sent atomic.Int64
	done chan struct{}
}

func startMedia(size int64) (*mediaServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &mediaServer{URL: "http://" + ln.Addr().String(), done: make(chan struct{}, 16)}
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	m.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/recording.mp4") {
			http.NotFound(w, r) // the Nylas API and anything else
			return
		}
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		for left := size; left > 0; {
			n, err := w.Write(chunk[:min(int64(len(chunk)), left)])
			m.sent.Add(int64(n))
			if err != nil {
				return
			}
			left -= int64(n)
		}
		m.done <- struct{}{}
	})}
	go m.srv.Serve(ln)
	return m, nil
}

func (m *mediaServer) Close() { m.srv.Close() }

// daemon is the real binary over the seeded data dir.
type daemon struct {
	measure.Daemon
	url, metricsURL string
	client          *http.Client
}

func newDaemon(dir, dataDir, mediaURL string) (*daemon, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(adminPassword), 12) // as in production
	if err != nil {
		return nil, err
	}
	md, url, metricsURL, err := measure.NewDaemon(dir, measure.DaemonConfig{DataDir: dataDir, Secret: secret,
		Nylas:   fmt.Sprintf("api_base = %q\nallow_http_media = true", mediaURL),
		Archive: "kinds = [\"recording\"]\nmax_file_bytes = 4294967296",
		Extra:   fmt.Sprintf("[admin]\nusers = { ops = %q }\n", hash)})
	if err != nil {
		return nil, err
	}
	return &daemon{Daemon: *md, url: url, metricsURL: metricsURL, client: &http.Client{Timeout: 30 * time.Second}}, nil
}

// timeGet GETs url runs times (after one untimed request that warms the
// admin credential cache) and returns the median.
func (d *daemon) timeGet(url string, auth bool, runs int) (time.Duration, error) {
	get := func() error {
		req, _ := http.NewRequest("GET", url, nil)
		if auth {
			req.SetBasicAuth("ops", adminPassword)
		}
		resp, err := d.client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
	if err := get(); err != nil {
		return 0, err
	}
	var ds []time.Duration
	for range runs {
		start := time.Now()
		if err := get(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	return median(ds), nil
}

// archive posts a notetaker.media notification with fresh links for a new
// meeting, then samples the daemon's anonymous memory
// until the recording is archived (notekeeper_downloads_total ok), and
// returns its peak and the time taken.
func (d *daemon) archive(m *mediaServer, size int64) (int64, time.Duration, error) {
	id := fmt.Sprintf("ntHistArchive%d", time.Now().UnixNano()) // a new meeting on every run over a kept store
	body := fmt.Sprintf(`{"specversion":"1.0","type":"notetaker.media","source":"/nylas/notetaker","id":"ntf-archive-%d","time":%d,`+
		`"webhook_delivery_attempt":1,"data":{"application_id":"app-bench","object":{"id":%q,"grant_id":"grant-bench",`+
		`"object":"notetaker","state":"available","status":"available","media":{"recording":"%s/%s/recording.mp4",`+
		`"recording_file_format":"mp4","retained_until":%d}}}}`,
		time.Now().UnixNano(), time.Now().Unix(), id, m.URL, id, time.Now().Add(14*24*time.Hour).Unix())
	req, _ := http.NewRequest("POST", d.url+"/webhooks/nylas", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Nylas-Signature", appliance.Sign(secret, []byte(body)))
	pid := d.Cmd.Process.Pid
	start := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, 0, fmt.Errorf("webhook: %s", resp.Status)
	}
	var peak int64
	for deadline := start.Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if a, err := measure.AnonRSS(pid); err == nil && a > peak {
			peak = a
		}
		if m.sent.Load() >= size {
			// Sent: wait for the daemon to count the download done.
			if ok, _ := d.downloaded(); ok {
				return peak, time.Since(start), nil
			}
		}
	}
	return peak, 0, fmt.Errorf("recording not archived within 5 minutes (%s sent)", measure.FormatSize(m.sent.Load()))
}

// downloaded reports whether /metrics counts a successful recording download.
func (d *daemon) downloaded() (bool, error) {
	resp, err := d.client.Get(d.metricsURL)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.Contains(string(b), `notekeeper_downloads_total{kind="recording",outcome="ok"} 1`), err
}
