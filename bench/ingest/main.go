// Command ingest measures durable webhook ingest against a trivial Go
// handler, in the same run, on the same machine.
//
// It posts distinct signed notifications of about -size bytes over -conns
// keep-alive connections for -duration, first to a handler that reads the
// body and answers 200, then to notekeeper's real receiver (signature check,
// envelope parse, bbolt commit with fsync before 200, workers applying the
// notifications behind it), and prints notifications/s, p50 and p99 for each
// and the ratio.
//
//	go run ./bench/ingest -duration 10s
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/store"
)

const secret = "bench-secret"

// external: the daemon runs as its own process (external.go).
var external bool

func main() {
	duration := flag.Duration("duration", 10*time.Second, "load time per target")
	conns := flag.Int("conns", 32, "keep-alive connections")
	size := flag.Int("size", 3000, "approximate notification size in bytes")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.BoolVar(&external, "external", false, "run notekeeper as its own process (the real binary, `serve`) instead of in this one")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ingest:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(*duration, *conns, *size); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, conns, size int) error {
	mode := "notekeeper in this process"
	if external {
		mode = "notekeeper in its own process"
	}
	fmt.Printf("ingest benchmark: %d connections, ~%d-byte notifications, %v per target, GOMAXPROCS=%d, %s\n",
		conns, size, duration, runtime.GOMAXPROCS(0), mode)

	trivialURL, stopTrivial, err := startTrivial()
	if err != nil {
		return err
	}
	trivial := load(trivialURL, duration, conns, size, "trivial")
	stopTrivial()

	dir, err := os.MkdirTemp("", "notekeeper-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var (
		durable    result
		before, cs store.CommitStats
		stored     int
	)
	if external {
		d, err := startDaemon(dir)
		if err != nil {
			return err
		}
		before, err = d.commitStats()
		if err != nil {
			d.Stop()
			return err
		}
		durable = load(d.webhookURL, duration, conns, size, "notekeeper (own process)")
		cs, err = d.commitStats()
		d.Stop()
		if err != nil {
			return err
		}
		if stored, err = countStored(filepath.Join(dir, "data", "notekeeper.db")); err != nil {
			return err
		}
	} else {
		appURL, stopApp, db, err := startAppliance(filepath.Join(dir, "notekeeper.db"))
		if err != nil {
			return err
		}
		before = db.CommitStats()
		durable = load(appURL, duration, conns, size, "notekeeper")
		cs = db.CommitStats()
		stopApp()
		stored, _ = db.CountNotifications()
		db.Close()
	}

	fmt.Printf("\n%-28s %12s %10s %10s %8s\n", "target", "notif/s", "p50", "p99", "errors")
	for _, r := range []result{trivial, durable} {
		fmt.Printf("%-28s %12.0f %10s %10s %8d\n", strings.Fields(r.name)[0], r.rate(), r.pct(50), r.pct(99), r.errors)
	}
	fmt.Printf("\ndurable/trivial = %.2f   (stored %d notifications, each fsynced before its 200)\n",
		durable.rate()/trivial.rate(), stored)
	commits, writes := cs.Commits-before.Commits, cs.Writes-before.Writes
	if commits > 0 {
		busy := cs.Busy - before.Busy
		fmt.Printf("store writer: %d commits (%.0f/s), mean batch %.1f writes (ingests and the workers' writes), mean commit %s, busy %.0f%% of the run\n",
			commits, float64(commits)/durable.elapsed.Seconds(), float64(writes)/float64(commits),
			(busy / time.Duration(commits)).Round(time.Microsecond), 100*busy.Seconds()/durable.elapsed.Seconds())
		if work := cs.Work - before.Work; work > 0 {
			fmt.Printf("of each commit, %s runs the writes (ingests, leases, completions) and %s is bbolt's commit (pages, two fdatasyncs)\n",
				(work / time.Duration(commits)).Round(time.Microsecond), ((busy - work) / time.Duration(commits)).Round(time.Microsecond))
		}
	}
	if int64(stored) != durable.ok {
		return fmt.Errorf("%d acknowledged but %d stored", durable.ok, stored)
	}
	return nil
}

// startTrivial serves the baseline: read the body, answer 200.
func startTrivial() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("ok"))
	})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/webhooks/nylas", func() { srv.Close() }, nil
}

// startAppliance runs the real receiver, store and workers.
func startAppliance(path string) (string, func(), *store.DB, error) {
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		return "", nil, nil, err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	metrics := appliance.NewMetrics() // as in production: counted per request
	pool := appliance.NewPool(db)
	pool.Logger = logger
	pool.Metrics = metrics
	(&appliance.Records{DB: db, Logger: logger}).Register(pool)
	if err := pool.Open(); err != nil {
		return "", nil, nil, err
	}
	s := appliance.NewServer()
	s.Addr = "127.0.0.1:0"
	s.Logger = logger
	s.Receiver = &appliance.Receiver{DB: db, Verifier: appliance.NewVerifier(secret), MaxBodyBytes: 2 << 20, Logger: logger, Metrics: metrics}
	if err := s.Open(); err != nil {
		return "", nil, nil, err
	}
	stop := func() {
		s.Close(context.Background())
		pool.Close(context.Background())
	}
	return s.URL() + "/webhooks/nylas", stop, db, nil
}

type result struct {
	name      string
	elapsed   time.Duration
	ok        int64
	errors    int64
	latencies []time.Duration
}

func (r result) rate() float64 { return float64(r.ok) / r.elapsed.Seconds() }

func (r result) pct(p int) string {
	if len(r.latencies) == 0 {
		return "-"
	}
	i := min(len(r.latencies)-1, len(r.latencies)*p/100)
	return r.latencies[i].Round(10 * time.Microsecond).String()
}

var seq atomic.Int64

// notification returns a distinct signed notetaker.media notification of
// about size bytes (the padding sits in a field notekeeper ignores).
func notification(size int) ([]byte, string) {
	n := seq.Add(1)
	head := fmt.Sprintf(`{"specversion":"1.0","type":"notetaker.media","source":"/nylas/notetaker","id":"bench-%d","time":%d,`+
		`"webhook_delivery_attempt":1,"data":{"application_id":"app-bench","object":{"id":"nt-%d","grant_id":"grant-bench",`+
		`"object":"notetaker","meeting_provider":"Google Meet","meeting_link":"https://meet.google.com/abc-defg-hij",`+
		`"event":{"ical_uid":"x@google.com","event_id":"evt-%d"},"state":"processing","status":"processing","notes":"`,
		n, 1737500000+n, n%5000, n%5000)
	pad := max(0, size-len(head)-4)
	body := head + strings.Repeat("x", pad) + `"}}}`
	return []byte(body), appliance.Sign(secret, []byte(body))
}

// load drives url from conns goroutines, one keep-alive connection each.
func load(url string, d time.Duration, conns, size int, name string) result {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var (
		mu     sync.Mutex
		all    []time.Duration
		ok     atomic.Int64
		errs   atomic.Int64
		wg     sync.WaitGroup
		cutoff = time.Now().Add(d)
	)
	start := time.Now()
	for range conns {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 4096)
			for time.Now().Before(cutoff) {
				body, sig := notification(size)
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("X-Nylas-Signature", sig)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs.Add(1)
					continue
				}
				lat = append(lat, time.Since(t0))
				ok.Add(1)
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(all)
	return result{name: name, elapsed: time.Since(start), ok: ok.Load(), errors: errs.Load(), latencies: all}
}
