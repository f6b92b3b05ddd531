package e2e

// TestSoak: the whole appliance under faults, over time. It builds the real
// binary and runs it against stand-ins for the Nylas API and storage, a
// CRM, an ATS and an alert webhook, with a fault schedule drawn from a
// seeded random source, then checks the invariants in soak_check_test.go.
// It is opt-in: without -soak.duration it is skipped. CI runs it for two
// minutes; by hand:
//
//	go test -run Soak ./e2e -soak.duration 30m -soak.seed 42
//	go test -run Soak ./e2e -soak.duration 2m -soak.crm hubspot   # through the HubSpot connector
//
// The seed is printed at the start and in every failure; a failing seed
// reproduces its plan (meetings, kills, windows) exactly.

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/crm/crmtest"
	"github.com/notekeeper/notekeeper/store"
)

var (
	soakDuration = flag.Duration("soak.duration", 0, "how long the soak injects faults (the drain and the checks come after); 0 skips the soak")
	soakSeed     = flag.Uint64("soak.seed", 0, "seed of the soak's fault schedule; 0 = time-based (printed either way)")
)

// soak is one soak run.
type soak struct {
	t        *testing.T
	seed     uint64
	duration time.Duration
	began    time.Time
	dataDir  string
	diskFile string

	world   *soakWorld
	grants  []soakStep
	faults  *soakFaults
	storage *soakStorage
	nylas   *soakNylas
	crm     *soakCRM
	hubspot *crmtest.HubSpot // with -soak.crm hubspot, the CRM instead of crm
	ats     *soakATS
	alerts  *soakAlertSink
	app     *soakAppliance
	client  *http.Client
	metrics string // the /metrics URL on metrics_listen

	mu        sync.Mutex
	acked     map[string]soakStep // envelope id → step, once answered 200
	ackedBy   map[string]string   // envelope id → Notetaker ID ("" for grants)
	samples   []soakSample
	baseline  soakSample
	sent      atomic.Int64 // POSTs made
	refused   atomic.Int64 // POSTs not answered 200 (connection errors during kills, 503)
	dupes     atomic.Int64 // duplicates acknowledged
	late      atomic.Int64 // out-of-order notifications acknowledged
	missed    atomic.Int64 // available notifications never delivered
	kills     int
	sigterms  int
	diskWins  int
	unacked   atomic.Int64 // notifications given up on at the hard stop (must be 0)
	hardStop  time.Time
	meetingWG sync.WaitGroup
}

// failf reports an invariant breach, naming the seed.
func (s *soak) failf(format string, args ...any) {
	s.t.Helper()
	s.t.Errorf("soak seed %d: "+format, append([]any{s.seed}, args...)...)
}

// fatalf stops the soak, naming the seed and showing the appliance's log.
func (s *soak) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("soak seed %d: "+format+"\n--- appliance log (last %d lines) ---\n%s", append(append([]any{s.seed}, args...), soakLogLines, s.app.log.String())...)
}

// soakDiskFreeEnv is the binary's disk-free test seam (testhook_diskfree.go
// in package main): the file it names holds the free bytes the appliance
// believes its data dir has.
const soakDiskFreeEnv = "NOTEKEEPER_TEST_DISK_FREE_FILE"

func TestSoak(t *testing.T) {
	if *soakDuration <= 0 {
		t.Skip("the soak is opt-in: go test -run Soak ./e2e -soak.duration 2m [-soak.seed N]")
	}
	bin := binary(t) // skipped with -short
	seed := *soakSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("soak seed %d, duration %s (reproduce: go test -run Soak ./e2e -soak.seed %d -soak.duration %s)", seed, *soakDuration, seed, *soakDuration)
	s := &soak{t: t, seed: seed, duration: *soakDuration, world: &soakWorld{byID: map[string]*soakMeeting{}},
		faults: newSoakFaults(), acked: map[string]soakStep{}, ackedBy: map[string]string{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("SOAK FAILED with seed %d: go test -run Soak ./e2e -soak.seed %d -soak.duration %s", seed, seed, s.duration)
		}
	})
	defer s.faults.release()
	s.storage = newSoakStorage(s.world, s.faults, newSoakDice(seed, 1))
	defer s.storage.srv.Close()
	s.nylas = newSoakNylas(s.world, s.storage, s.faults, newSoakDice(seed, 2), "soak-api-key")
	defer s.nylas.srv.Close()
	s.ats = newSoakATS(s.faults, newSoakDice(seed, 4))
	defer s.ats.srv.Close()
	s.alerts = newSoakAlertSink(s.faults, newSoakDice(seed, 5))
	defer s.alerts.srv.Close()

	plan := rand.New(rand.NewPCG(seed, 0))
	now := time.Now()
	var meetings []*soakMeeting
	for n := 1; n <= 4000; n++ {
		meetings = append(meetings, newSoakMeeting(n, plan, now))
	}
	reject := ""
	for _, m := range meetings {
		if *soakCRMType == "rest" && m.Kind == kindSales && !m.Missed && !m.Near {
			m.Reject, reject = true, m.ID // the HubSpot stand-in has no per-meeting 400
			break
		}
	}
	s.crm = newSoakCRM(s.faults, newSoakDice(seed, 3), reject)
	defer s.crm.srv.Close()
	switch *soakCRMType {
	case "rest":
	case "hubspot":
		s.openHubSpot(meetings, newSoakDice(seed, 6))
		defer s.hubspot.Close()
	default:
		t.Fatalf("-soak.crm %q: want rest or hubspot", *soakCRMType)
	}

	s.dataDir = filepath.Join(t.TempDir(), "data")
	s.diskFile = filepath.Join(t.TempDir(), "disk-free")
	s.setDisk(false)
	metricsAddr := freeAddr(t)
	s.metrics = "http://" + metricsAddr + "/metrics"
	s.app = &soakAppliance{bin: bin, config: s.writeConfig(metricsAddr), env: []string{soakDiskFreeEnv + "=" + s.diskFile}}
	s.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	if err := s.app.start(); err != nil {
		s.fatalf("first start: %v", err)
	}
	if b, err := scrape(s.metrics); err != nil {
		s.fatalf("metrics: %v", err)
	} else {
		s.baseline = b
	}
	s.began = time.Now()
	s.hardStop = s.began.Add(s.duration + 3*time.Minute)
	stopSampling := s.sample()

	s.meetingWG.Add(1)
	s.grants = grantSteps(4, plan)
	go s.generate(meetings, plan.Uint64(), s.grants)
	s.chaos(plan)
	s.faults.calm.Store(true)
	s.setDisk(false)
	t.Logf("soak seed %d: fault phase over after %s; waiting for the senders", seed, time.Since(s.began).Round(time.Second))
	waited := make(chan struct{})
	go func() { s.meetingWG.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(time.Until(s.hardStop)):
		s.fatalf("senders still busy at the hard stop")
	}
	s.faults.release() // any request still hung returns
	tasks := s.drain()
	s.client.CloseIdleConnections()
	final := s.settle()
	stopSampling()
	if err := s.app.stop(); err != nil {
		s.fatalf("final SIGTERM: %v", err)
	}
	rep := s.check(tasks, final)
	s.summarise(rep)
}

// setDisk writes the free space the appliance sees: none in a disk-full
// window, 1 TiB otherwise.
func (s *soak) setDisk(full bool) {
	v := "1099511627776"
	if full {
		v = "0"
	}
	if err := os.WriteFile(s.diskFile, []byte(v), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// writeConfig writes the appliance's config: short jobs and back-offs so a
// lot happens in minutes.
func (s *soak) writeConfig(metricsAddr string) string {
	return writeConfig(s.t, fmt.Sprintf(`data_dir = %q
internal_domains = ["soak.example"]
[log]
level = "info"
[server]
listen = "127.0.0.1:0"
metrics_listen = %q
[nylas]
api_base = %q
api_key = "soak-api-key"
webhook_secrets = [%q]
grants = [%q]
allow_http_media = true
[archive]
min_free_bytes = 1073741824
concurrency = 4
at_risk = "1h"
[jobs]
refresh_media = "@every 3s"
archive_sweep = "@every 2s"
reconcile = "@every 5s"
webhook_watchdog = ""
backup = ""
retention = ""
[tasks]
workers = 8
max_attempts = 10
backoff_base = "10ms"
backoff_max = "1s"
%s[ats]
enabled = true
base_url = %q
api_key = "soak-ats-key"
[[alert]]
type = "webhook"
url = %q
`, s.dataDir, metricsAddr, s.nylas.srv.URL, e2eSecret, soakGrant, s.crmTable(), s.ats.srv.URL, s.alerts.srv.URL))
}

// sample reads /metrics every second until the returned func is called.
func (s *soak) sample() func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if v, err := scrape(s.metrics); err == nil { // fails between a kill and the restart
				v.At = time.Since(s.began)
				s.mu.Lock()
				s.samples = append(s.samples, v)
				s.mu.Unlock()
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// generate starts meetings at a steady rate with bursts until the fault
// phase is nearly over (so every meeting's life ends inside it), and sends
// the grant notifications along the way.
func (s *soak) generate(meetings []*soakMeeting, seed uint64, grants []soakStep) {
	defer s.meetingWG.Done()
	r := rand.New(rand.NewPCG(seed, 9))
	s.meetingWG.Add(1)
	go func(r *rand.Rand) {
		defer s.meetingWG.Done()
		for _, st := range grants {
			time.Sleep(time.Duration(r.Int64N(int64(s.duration / 8))))
			s.deliver(st, "")
		}
	}(rand.New(rand.NewPCG(seed, 10)))
	end := s.began.Add(s.duration * 85 / 100)
	nextBurst := s.began.Add(time.Duration(8+r.IntN(12)) * time.Second)
	for i := 0; i < len(meetings) && time.Now().Before(end); {
		burst := 1
		if time.Now().After(nextBurst) {
			burst = 15 + r.IntN(16)
			nextBurst = time.Now().Add(time.Duration(8+r.IntN(12)) * time.Second)
		}
		for ; burst > 0 && i < len(meetings); burst-- {
			m := meetings[i]
			i++
			s.world.add(m)
			s.meetingWG.Add(1)
			go s.live(m, r.Uint64())
		}
		time.Sleep(time.Duration(150+r.IntN(450)) * time.Millisecond)
	}
}

// live sends one meeting's notifications in order (each until it is
// acknowledged, as Nylas retries), re-sending 10% of them later as
// duplicates.
func (s *soak) live(m *soakMeeting, seed uint64) {
	defer s.meetingWG.Done()
	r := rand.New(rand.NewPCG(seed, uint64(m.N)))
	for _, st := range m.steps(s.storage) {
		if st.Skip {
			s.missed.Add(1)
		} else {
			s.deliver(st, m.ID)
			if r.Float64() < 0.10 {
				s.meetingWG.Add(1)
				go func(st soakStep, wait time.Duration) {
					defer s.meetingWG.Done()
					time.Sleep(wait)
					if s.deliver(st, m.ID) {
						s.dupes.Add(1)
					}
				}(st, time.Duration(r.IntN(3000))*time.Millisecond)
			}
		}
		if st.Ready {
			m.ready.Store(true)
		}
		time.Sleep(time.Duration(50+r.IntN(350)) * time.Millisecond)
	}
}

// deliver posts st until it is answered 200 (true) or the hard stop.
func (s *soak) deliver(st soakStep, meeting string) bool {
	for time.Now().Before(s.hardStop) {
		if url := s.app.url(); url != "" {
			s.sent.Add(1)
			status, err := postNotification(s.client, url, st.Body)
			if err == nil && status == 200 {
				s.mu.Lock()
				if _, dup := s.acked[st.ID]; !dup && st.Late {
					s.late.Add(1)
				}
				s.acked[st.ID], s.ackedBy[st.ID] = st, meeting
				s.mu.Unlock()
				return true
			}
			s.refused.Add(1)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.unacked.Add(1)
	return false
}

// soakEvent is something done to the appliance at a moment of the plan.
type soakEvent struct {
	at   time.Duration
	what string // "kill", "sigterm", "disk-full", "disk-ok"
}

// chaos runs the plan of the appliance's faults: SIGKILLs every 8–25 s,
// one SIGTERM, one disk-full window of 8 s, each followed by what an
// operator's systemd would do (restart).
func (s *soak) chaos(plan *rand.Rand) {
	var events []soakEvent
	d := s.duration
	term := d*3/10 + time.Duration(plan.Int64N(int64(d*3/10)))
	disk := d/5 + time.Duration(plan.Int64N(int64(d/2)))
	events = append(events, soakEvent{term, "sigterm"}, soakEvent{disk, "disk-full"}, soakEvent{min(disk+8*time.Second, d), "disk-ok"})
	for at := time.Duration(8+plan.IntN(12)) * time.Second; at < d*9/10; at += time.Duration(8+plan.IntN(17)) * time.Second {
		if at > term-3*time.Second && at < term+3*time.Second {
			continue
		}
		events = append(events, soakEvent{at, "kill"})
	}
	sort.Slice(events, func(i, j int) bool { return events[i].at < events[j].at })
	for _, e := range events {
		time.Sleep(time.Until(s.began.Add(e.at)))
		switch e.what {
		case "kill":
			s.app.kill()
			s.kills++
			if err := s.app.start(); err != nil {
				s.fatalf("restart after SIGKILL at %s: %v", e.at, err)
			}
		case "sigterm":
			if err := s.app.stop(); err != nil {
				s.fatalf("SIGTERM at %s: %v", e.at, err)
			}
			s.sigterms++
			if err := s.app.start(); err != nil {
				s.fatalf("restart after SIGTERM at %s: %v", e.at, err)
			}
		case "disk-full":
			s.setDisk(true)
			s.diskWins++
		case "disk-ok":
			s.setDisk(false)
		}
		s.t.Logf("soak seed %d: %s at %s", s.seed, e.what, e.at.Round(time.Millisecond))
	}
	time.Sleep(time.Until(s.began.Add(d)))
}

// drain polls the queue through `notekeeper tasks -json` until nothing is
// live (dead letters stay) and no stand-in has been called for 6 s (longer
// than the reconcile and sweep periods), and returns the final tasks.
func (s *soak) drain() []store.Task {
	deadline := time.Now().Add(3 * time.Minute)
	var quietSince time.Time
	last := -1
	for {
		tasks, err := s.app.tasks()
		if err != nil {
			s.fatalf("drain: %v", err)
		}
		live := 0
		for _, t := range tasks {
			if !t.Dead {
				live++
			}
		}
		activity := s.activity()
		switch {
		case live > 0 || activity != last:
			quietSince, last = time.Time{}, activity
		case quietSince.IsZero():
			quietSince = time.Now()
		case time.Since(quietSince) > 6*time.Second:
			s.t.Logf("soak seed %d: drained %s after the fault phase", s.seed, time.Since(s.began.Add(s.duration)).Round(time.Second))
			return tasks
		}
		if time.Now().After(deadline) {
			var keys []string
			for _, t := range tasks {
				if !t.Dead {
					keys = append(keys, fmt.Sprintf("%s (attempts %d, %s)", t.Key(), t.Attempts, t.LastError))
				}
			}
			s.fatalf("queue not idle 3 minutes after the faults stopped: %d live tasks: %s", live, strings.Join(keys, "; "))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// activity counts what the stand-ins have been asked to change.
func (s *soak) activity() int {
	n := len(s.alerts.received())
	n += s.crmActivity()
	s.ats.mu.Lock()
	n += len(s.ats.keys) + s.ats.replays
	s.ats.mu.Unlock()
	return n
}

// settle polls /metrics until the idle appliance's goroutines are back
// within soakGoroutineSlack of the baseline taken at the first start (or
// 30 s pass) and returns the last reading.
func (s *soak) settle() soakSample {
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := scrape(s.metrics)
		if err != nil {
			s.fatalf("metrics at the end: %v", err)
		}
		v.At = time.Since(s.began)
		if v.Goroutines <= s.baseline.Goroutines+soakGoroutineSlack || time.Now().After(deadline) {
			s.mu.Lock()
			s.samples = append(s.samples, v)
			s.mu.Unlock()
			return v
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// soakSummary is what a soak run did and found; it is logged and written
// to $NOTEKEEPER_ARTIFACTS/soak-summary.json.
type soakSummary struct {
	Seed                   uint64         `json:"seed"`
	Duration               string         `json:"duration"`
	Meetings               map[string]int `json:"meetings"`
	NotificationsSent      int64          `json:"notifications_sent"`
	NotificationsAcked     int            `json:"notifications_acked"`
	NotificationsRefused   int64          `json:"notifications_refused"`
	Duplicates             int64          `json:"duplicates"`
	OutOfOrder             int64          `json:"out_of_order"`
	WebhooksNeverDelivered int64          `json:"webhooks_never_delivered"`
	Faults                 map[string]int `json:"faults"`
	FaultsTotal            int            `json:"faults_total"`
	Kills                  int            `json:"kills"`
	SIGTERMs               int            `json:"sigterms"`
	Restarts               int            `json:"restarts"`
	DiskFullWindows        int            `json:"disk_full_windows"`
	MediaRefreshes         int64          `json:"media_refreshes"`
	FilesArchived          int            `json:"files_archived"`
	CRMRecords             int            `json:"crm_records"`
	ATSInterviews          int            `json:"ats_interviews"`
	Alerts                 map[string]int `json:"alerts"`
	DeadLetters            []string       `json:"dead_letters"`
	Invariants             []string       `json:"invariants_checked"`
	Breaches               int            `json:"breaches"`
	RSS                    [3]float64     `json:"rss_bytes_first_last_max"`
	Goroutines             [3]float64     `json:"goroutines_first_last_max"`
	Samples                int            `json:"metric_samples"`
}

// summarise logs the summary and writes it as JSON for CI's artifacts.
func (s *soak) summarise(rep *soakReport) {
	sum := soakSummary{Seed: s.seed, Duration: s.duration.String(), Meetings: map[string]int{},
		NotificationsSent: s.sent.Load(), NotificationsAcked: len(s.acked), NotificationsRefused: s.refused.Load(),
		Duplicates: s.dupes.Load(), OutOfOrder: s.late.Load(), WebhooksNeverDelivered: s.missed.Load(),
		Faults: s.faults.counts(), FaultsTotal: s.faults.total(), Kills: s.kills, SIGTERMs: s.sigterms,
		Restarts: s.app.starts - 1, DiskFullWindows: s.diskWins, MediaRefreshes: s.nylas.refreshes.Load(),
		FilesArchived: rep.files, CRMRecords: rep.crmRecords, ATSInterviews: rep.interviews, Alerts: rep.alerts,
		DeadLetters: rep.dead, Invariants: rep.checked, Breaches: rep.breaches, Samples: len(s.samples)}
	for _, m := range s.world.all() {
		sum.Meetings[string(m.Kind)]++
	}
	for i, v := range s.samples {
		if i == 0 {
			sum.RSS = [3]float64{v.RSS, v.RSS, v.RSS}
			sum.Goroutines = [3]float64{v.Goroutines, v.Goroutines, v.Goroutines}
		}
		sum.RSS[1], sum.RSS[2] = v.RSS, max(sum.RSS[2], v.RSS)
		sum.Goroutines[1], sum.Goroutines[2] = v.Goroutines, max(sum.Goroutines[2], v.Goroutines)
	}
	out, _ := json.MarshalIndent(sum, "", "  ")
	s.t.Logf("soak summary:\n%s", out)
	if dir := os.Getenv("NOTEKEEPER_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			s.t.Errorf("artifacts: %v", err)
		} else if err := os.WriteFile(filepath.Join(dir, soakSummaryFile()), append(out, '\n'), 0o600); err != nil {
			s.t.Errorf("artifacts: %v", err)
		}
	}
}
