package main

// `notekeeper demo`: the whole pipeline on this machine, with the Nylas
// simulator, CRM/ATS stand-ins and an alert sink of appliance/demo, and the
// real appliance (NewMain/Open/Close, as serve) in between.

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/crm/crmtest"
	"github.com/notekeeper/notekeeper/appliance/demo"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/webhookfile"
	"github.com/notekeeper/notekeeper/config"
	"github.com/notekeeper/notekeeper/store"
)

// demoTimeout bounds the wait for the archive, the deliveries and the alert.
const demoTimeout = 60 * time.Second

// demoUser is the admin user the demo creates (with a random password).
const demoUser = "demo"

// demoRun is one demo: the stand-ins, the appliance and what it was given.
type demoRun struct {
	dir      string
	sim      *demo.Simulator
	crm      *demo.CRM
	ats      *demo.ATS
	sink     *demo.AlertSink
	m        *Main
	log      *os.File
	secret   string // webhook secret
	password string // of demoUser
	steps    []demo.Step
	// hubspot, with -crm hubspot, is the CRM: a HubSpot API stand-in that
	// the real HubSpot connector writes to.
	hubspot *crmtest.HubSpot
	// nylasSide is what nylas plan, apply and plan printed.
	nylasSide string
}

// runDemo runs `notekeeper demo [-once] [-keep-data] [-crm hubspot]`: it starts everything,
// sends the script, waits (bounded) for the archive, the deliveries and the
// alert, prints what happened, then serves until ctx ends (or returns at once
// with -once). The data dir is removed at exit unless -keep-data.
func runDemo(ctx context.Context, args []string, std stdio) (err error) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	once := fs.Bool("once", false, "exit after printing what happened")
	keep := fs.Bool("keep-data", false, "keep the throw-away data directory at exit")
	crm := fs.String("crm", "rest", `the CRM: "rest" (notekeeper's own contract) or "hubspot" (the HubSpot connector against a HubSpot API stand-in)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *crm != "rest" && *crm != "hubspot" {
		return fmt.Errorf("demo: -crm %q: want rest or hubspot", *crm)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("demo: unexpected argument %q", fs.Arg(0))
	}
	dir, err := os.MkdirTemp("", "notekeeper-demo-")
	if err != nil {
		return fmt.Errorf("demo: data dir: %w", err)
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	d := &demoRun{dir: dir}
	defer func() { err = errors.Join(err, d.close()) }()
	if *crm == "hubspot" {
		d.hubspot = demoHubSpot()
	}
	if err := d.open(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	if err := d.drive(wctx); err != nil {
		d.printLogTail(std.Err)
		return fmt.Errorf("demo: %w", err)
	}
	if err := d.report(std.Out, *keep); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if *once {
		return nil
	}
	fmt.Fprintln(std.Out, "\nServing until Ctrl-C.")
	<-ctx.Done()
	return nil
}

// open starts the simulator, the stand-ins and the appliance.
func (d *demoRun) open() error {
	apiKey, crmKey, atsKey := "demo-nylas-"+rand.Text(), "demo-crm-"+rand.Text(), "demo-ats-"+rand.Text()
	d.secret, d.password = rand.Text(), rand.Text()[:20]
	d.sim = demo.NewSimulator(apiKey, demo.Sales(), demo.Interview(), demo.Lobby())
	d.crm, d.ats, d.sink = demo.NewCRM(crmKey), demo.NewATS(atsKey), demo.NewAlertSink()
	for _, s := range []interface{ Open() error }{d.sim, d.crm, d.ats, d.sink} {
		if err := s.Open(); err != nil {
			return err
		}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(d.password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hash the admin password: %w", err)
	}
	d.log, err = os.OpenFile(filepath.Join(d.dir, "notekeeper.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(d.log, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// The listen port is chosen before Open because links and public_url
	// are built from it; another process may take it in between, so try
	// again on "address in use".
	for attempt := 1; ; attempt++ {
		listen, err := freeLoopbackAddr()
		if err != nil {
			return err
		}
		cfg := demoConfig(d.dir, listen, d.sim.URL(), apiKey, d.secret, string(hash),
			d.crm.URL(), crmKey, d.ats.URL(), atsKey, d.sink.URL())
		if d.hubspot != nil {
			cfg.CRM.Type, cfg.CRM.BaseURL, cfg.CRM.APIKey = "hubspot", d.hubspot.URL(), config.Literal(d.hubspot.Token)
			cfg.CRM.TasksFromActionItems = true
		}
		d.sim.WebhookURL = cfg.PublicURL() + cfg.Server.WebhookPath
		d.m = NewMain(cfg, logger)
		err = d.m.Open()
		if err == nil {
			break
		}
		d.m.Close()
		d.m = nil
		if !errors.Is(err, syscall.EADDRINUSE) || attempt == 3 {
			return err
		}
	}
	// Record the simulator's destination as `webhook create` would, so the
	// webhook watchdog and the admin overview have one to look at.
	return webhookfile.WriteDestination(d.dir, webhookfile.Destination{ID: demo.WebhookID, URL: d.sim.WebhookURL, CreatedAt: time.Now().UTC()})
}

// freeLoopbackAddr returns 127.0.0.1:PORT with a port free right now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// demoConfig is the demo appliance's configuration: config.Default with plain
// HTTP on listen, the simulator as the Nylas API (http media allowed), the
// stand-ins as CRM, ATS and alert webhook, one admin user, and quick retries.
func demoConfig(dir, listen, apiBase, apiKey, secret, adminHash, crmURL, crmKey, atsURL, atsKey, sinkURL string) config.Config {
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.InternalDomains = []string{demo.InternalDomain}
	cfg.Server.Listen = listen
	cfg.Nylas.APIBase = apiBase
	cfg.Nylas.APIKey = config.Literal(apiKey)
	cfg.Nylas.WebhookSecrets = []config.Secret{config.Literal(secret)}
	cfg.Nylas.Grants = []string{demo.Sales().GrantID}
	cfg.Nylas.AllowHTTPMedia = true
	cfg.Archive.MinFreeBytes = 64 << 20 // a throw-away dir in /tmp: do not ask for the default 2 GiB
	cfg.Tasks.BackoffBase = config.Duration{Duration: 100 * time.Millisecond}
	cfg.Tasks.BackoffMax = config.Duration{Duration: 2 * time.Second}
	cfg.Tasks.MaxAttempts = 8
	cfg.Tasks.Lease = config.Duration{Duration: time.Minute}
	cfg.CRM.Enabled, cfg.CRM.BaseURL, cfg.CRM.APIKey = true, crmURL, config.Literal(crmKey)
	cfg.ATS.Enabled, cfg.ATS.BaseURL, cfg.ATS.APIKey = true, atsURL, config.Literal(atsKey)
	cfg.Alerts = []config.Alert{{Type: "webhook", URL: config.Literal(sinkURL)}}
	cfg.Admin.Users = map[string]string{demoUser: adminHash}
	cfg.Followup = config.Followup{Enabled: true, To: "internal", Subject: "Notes: {{title}}"}
	grant := demo.Sales().GrantID
	cfg.Calendars = []config.Calendar{{Grant: grant, CalendarID: "primary", Enabled: true, BotName: "Meeting Notetaker",
		EventSelection: []string{"external"}, ParticipantsGTE: 2, VideoRecording: true, AudioRecording: true,
		Transcription: true, Summary: true, ActionItems: true, LeaveAfterSilenceSeconds: 300,
		SummaryInstructions: "Lead with the decisions and the numbers."}}
	cfg.Schedulers = []config.Scheduler{{Name: "interviews", Grant: grant, Slug: "your-company-interviews",
		Title: "Interview with {{invitee_name}}", DurationMinutes: 45, AvailabilityMethod: "max-fairness",
		Conferencing: "Google Meet",
		Participants: []config.Participant{
			{Name: demo.Sales().Organizer.Name, Email: demo.Sales().Organizer.Email, Organizer: true, CalendarID: "primary"},
		},
		Notetaker: config.Notetaker{Enabled: true, Name: "Interview Recorder", ShowConsentMessage: true}}}
	return cfg
}

// drive sends the script through the webhook and waits until everything it
// should cause has happened, or ctx ends; the error then names what did not
// happen.
func (d *demoRun) drive(ctx context.Context) error {
	driver := &demo.Driver{URL: d.m.Server.URL() + d.m.Config.Server.WebhookPath, Secret: d.secret}
	d.steps = demo.Script(d.sim, d.sim.URL())
	for _, s := range d.steps {
		if err := driver.Send(ctx, s.Body); err != nil {
			return fmt.Errorf("%s %s: %w", s.Type, s.ID, err)
		}
		if s.AwaitBooking != "" {
			err := d.await(ctx, func() []string {
				if _, err := d.m.DB.Booking(s.AwaitBooking); err != nil {
					return []string{"booking " + s.AwaitBooking + " recorded"}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	if err := d.await(ctx, d.missing); err != nil {
		return err
	}
	return d.provision(ctx)
}

// provision runs what `notekeeper nylas plan`, `apply` and `plan` again
// print against the simulator, keeping the text for the report.
func (d *demoRun) provision(ctx context.Context) error {
	p := newProvisioner(d.m.Config, nylas.New(d.m.Config.Nylas.APIBase, d.m.Config.Nylas.APIKey.Value()))
	var b strings.Builder
	for i, step := range []string{"plan", "apply", "plan"} {
		fmt.Fprintf(&b, "  $ notekeeper nylas %s\n", step)
		var out strings.Builder
		if step == "apply" {
			if err := p.Apply(ctx, &out); err != nil {
				return fmt.Errorf("nylas apply: %w", err)
			}
		} else {
			plan, err := p.Plan(ctx)
			if err != nil {
				return fmt.Errorf("nylas plan: %w", err)
			}
			plan.WriteTo(&out)
			if i == 0 && !plan.Pending() {
				return errors.New("nylas plan: nothing pending on a fresh simulator")
			}
		}
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	d.nylasSide = b.String()
	return nil
}

// await polls missing until it returns nothing or ctx ends.
func (d *demoRun) await(ctx context.Context, missing func() []string) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		left := missing()
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %v still waiting for: %s", demoTimeout, strings.Join(left, "; "))
		case <-tick.C:
		}
	}
}

// missing lists what the script should have caused and has not yet.
func (d *demoRun) missing() []string {
	var out []string
	for _, m := range []*demo.Meeting{demo.Sales(), demo.Interview()} {
		nt, err := d.m.DB.Notetaker(m.NotetakerID)
		if err != nil || !nt.ArchiveDone {
			msg := "the " + m.Scenario + " (" + m.NotetakerID + ") archived"
			if err == nil && nt.ArchiveError != "" {
				msg += " (last error: " + nt.ArchiveError + ")"
			}
			out = append(out, msg)
		}
	}
	want := []struct {
		what   string
		method string
		path   string
		reqs   []demo.Request
	}{
		{"the ATS interview", "POST", "/api/interviews", d.ats.Requests()},
		{"the ATS interview recording", "POST", "/api/interview-recordings", d.ats.Requests()},
	}
	if d.hubspot == nil {
		want = append(want, struct {
			what, method, path string
			reqs               []demo.Request
		}{"the CRM meeting record", "POST", "/api/meetings", d.crm.Requests()})
	} else if len(d.hubspot.Meetings()) != 1 || len(d.hubspot.Tasks()) != len(demo.Sales().ActionItems) {
		out = append(out, "the HubSpot meeting and its tasks")
	}
	for _, w := range want {
		if !slices.ContainsFunc(w.reqs, func(r demo.Request) bool { return r.Method == w.method && r.Path == w.path && r.Status < 300 }) {
			out = append(out, w.what+" ("+w.method+" "+w.path+")")
		}
	}
	if n := len(d.sim.Provisioning.Messages()); n < 2 {
		out = append(out, fmt.Sprintf("the follow-up e-mails of both archived meetings (%d sent)", n))
	}
	lobby := demo.Lobby().NotetakerID
	if !slices.ContainsFunc(d.sink.Alerts(), func(a demo.Alert) bool { return a.Kind == string(store.AlertFailedEntry) && a.Subject == lobby }) {
		out = append(out, "the notetaker.failed_entry alert about "+lobby)
	}
	if len(out) == 0 {
		// Everything arrived; let the queue finish (nothing left, nothing dead).
		tasks, err := d.m.DB.Tasks()
		if err != nil {
			return []string{err.Error()}
		}
		for _, t := range tasks {
			out = append(out, "task "+t.Key()+" to finish"+taskNote(t))
		}
	}
	return out
}

// taskNote says why a task is still there.
func taskNote(t *store.Task) string {
	switch {
	case t.Dead:
		return " (dead-lettered: " + t.LastError + ")"
	case t.LastError != "":
		return " (last error: " + t.LastError + ")"
	}
	return ""
}

// close shuts the appliance down, then the stand-ins.
func (d *demoRun) close() error {
	var errs []error
	if d.m != nil {
		errs = append(errs, d.m.Close())
	}
	for _, s := range []interface{ Close() error }{d.sim, d.crm, d.ats, d.sink} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	if d.hubspot != nil {
		d.hubspot.Close()
	}
	if d.log != nil {
		errs = append(errs, d.log.Close())
	}
	return errors.Join(errs...)
}

// printLogTail writes the last lines of the appliance's log, to explain a
// failure.
func (d *demoRun) printLogTail(w io.Writer) {
	b, err := os.ReadFile(filepath.Join(d.dir, "notekeeper.log"))
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	fmt.Fprintln(w, "last lines of the appliance's log:")
	for _, l := range lines[max(0, len(lines)-20):] {
		fmt.Fprintln(w, "  "+l)
	}
}

// report prints what happened.
func (d *demoRun) report(w io.Writer, keep bool) error {
	cfg := d.m.Config
	removed := "removed at exit; -keep-data keeps it"
	if keep {
		removed = "kept"
	}
	fmt.Fprintf(w, "notekeeper demo: the whole pipeline on this machine, no Nylas account, nothing leaves 127.0.0.1\n\n")
	fmt.Fprintf(w, "  appliance        %s (webhook %s)\n", d.m.Server.URL(), cfg.Server.WebhookPath)
	fmt.Fprintf(w, "  Nylas simulator  %s (API and signed, expiring media links)\n", d.sim.URL())
	if d.hubspot != nil {
		fmt.Fprintf(w, "  CRM stand-in     %s (HubSpot API: private-app token, search lag, 409s; the real HubSpot connector writes to it)\n", d.hubspot.URL())
	} else {
		fmt.Fprintf(w, "  CRM stand-in     %s\n", d.crm.URL())
	}
	fmt.Fprintf(w, "  ATS stand-in     %s\n", d.ats.URL())
	fmt.Fprintf(w, "  alert webhook    %s\n", d.sink.URL())
	fmt.Fprintf(w, "  data dir         %s (%s; the appliance logs to notekeeper.log there)\n", d.dir, removed)

	fmt.Fprintf(w, "\nSent %d notifications signed with X-Nylas-Signature; each answered 200 once stored:\n", len(d.steps))
	for _, s := range d.steps {
		fmt.Fprintf(w, "  %-23s %-24s %s\n", s.Scenario, s.Type, s.ID)
	}

	fmt.Fprintf(w, "\nArchived (from each manifest.json):\n")
	for _, m := range []*demo.Meeting{demo.Sales(), demo.Interview()} {
		dir, err := archive.MediaDir(cfg.DataDir, m.NotetakerID)
		if err != nil {
			return err
		}
		man, err := archive.ReadManifest(dir)
		if err != nil {
			return fmt.Errorf("%s: %w", m.NotetakerID, err)
		}
		fmt.Fprintf(w, "  %s  %s %q, kept by Nylas until %s\n", m.NotetakerID, m.Scenario, m.Title, man.DeletesAt.Format(time.RFC3339))
		names := make([]string, 0, len(man.Files))
		for name := range man.Files {
			names = append(names, name)
		}
		slices.SortFunc(names, func(a, b string) int { return cmp.Compare(kindIndex(a), kindIndex(b)) })
		for _, name := range names {
			f := man.Files[name]
			fmt.Fprintf(w, "    %-18s %8d B  sha256 %s\n", name, f.Bytes, f.SHA256)
		}
	}
	st := d.sim.Stats()
	fmt.Fprintf(w, "  Storage served %d files and refused %d expired link(s) with 403; notekeeper asked the media endpoint for fresh links %d time(s).\n",
		st.Served, st.Refused, st.Refreshes)

	sinks := []struct {
		name string
		reqs []demo.Request
	}{{"CRM", d.crm.Requests()}, {"ATS", d.ats.Requests()}}
	if d.hubspot != nil {
		sinks = sinks[1:]
		fmt.Fprintf(w, "\nHubSpot received:\n")
		for _, r := range d.hubspot.Knobs().Seen() {
			fmt.Fprintf(w, "  %s\n", demo.Request{Method: r.Method, Path: r.URL, Body: []byte(r.Body)}.Short(150))
		}
		fmt.Fprintf(w, "\nHubSpot holds:\n")
		for _, m := range d.hubspot.Meetings() {
			fmt.Fprintf(w, "  meeting %s %q marker %s, contacts %v, deal %s, company %s\n", m.ID, m.Title, m.Marker, m.ContactIDs, m.DealID, m.CompanyID)
		}
		for _, tk := range d.hubspot.Tasks() {
			fmt.Fprintf(w, "  task %s %q, contacts %v\n", tk.ID, tk.Title, tk.ContactIDs)
		}
	}
	for _, si := range sinks {
		fmt.Fprintf(w, "\n%s received:\n", si.name)
		for _, r := range si.reqs {
			fmt.Fprintf(w, "  %s → %d\n", r.Short(150), r.Status)
		}
	}
	fmt.Fprintf(w, "\nFollow-up e-mails ([followup]; messages/send, kept by the simulator):\n")
	for _, m := range d.sim.Provisioning.Messages() {
		var to []string
		for _, a := range m.Body["to"].([]any) {
			to = append(to, fmt.Sprint(a.(map[string]any)["email"]))
		}
		fmt.Fprintf(w, "  %q to %s (Idempotency-Key %s)\n", m.Body["subject"], strings.Join(to, ", "), m.IdempotencyKey)
	}
	fmt.Fprintf(w, "\nThe Nylas side ([[calendar]] and [[scheduler]] in the config):\n%s", d.nylasSide)
	fmt.Fprintf(w, "\nAlerts received:\n")
	for _, a := range d.sink.Alerts() {
		fmt.Fprintf(w, "  %s %s: %s\n", a.Kind, a.Subject, a.Message)
	}
	fmt.Fprintf(w, "\nAdmin UI: %s/admin/  user: %s  password: %s  (throw-away, this run only)\n",
		d.m.Server.URL(), demoUser, d.password)
	return nil
}

// kindIndex orders archived file names in the order of archive.Kinds.
func kindIndex(name string) int {
	i := slices.Index(archive.Kinds, strings.TrimSuffix(name, filepath.Ext(name)))
	if i < 0 {
		return len(archive.Kinds)
	}
	return i
}

// demoHubSpot starts the HubSpot stand-in of `demo -crm hubspot`, knowing
// the sales meeting's external participants, the first with an open deal.
func demoHubSpot() *crmtest.HubSpot {
	hs := crmtest.NewHubSpot("pat-demo-" + rand.Text())
	first := true
	for _, p := range demo.Sales().Participants {
		if strings.HasSuffix(p.Email, "@"+demo.InternalDomain) {
			continue
		}
		id := hs.AddContact(p.Email, p.Name, "Acme")
		if first {
			hs.AddDeal(id, "Acme renewal")
			first = false
		}
	}
	return hs
}
