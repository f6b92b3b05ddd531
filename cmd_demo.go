package main

// `notekeeper demo`: the whole pipeline on this machine, with the Nylas
// simulator, CRM/ATS stand-ins and an alert sink of appliance/demo, and the
// real appliance (NewMain/Open/Close, as serve) in between.

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/notekeeper/notekeeper/appliance/demo"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/webhookfile"
	"github.com/notekeeper/notekeeper/config"
)

// demoTimeout bounds the wait for the archive, the deliveries and the alert.
const demoTimeout = 60 * time.Second

// demoUser is the admin user the demo creates (with a random password).
const demoUser = "demo"

// demoRun is one demo: the stand-ins, the appliance and what it was given.
type demoRun struct {
	dir      string
	world    *demo.World
	m        *Main
	log      *os.File
	secret   string // webhook secret
	password string // of demoUser
	steps    []demo.Step
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
	d := &demoRun{dir: dir, world: demo.NewWorld(*crm == "hubspot")}
	defer func() { err = errors.Join(err, d.close()) }()
	if err := d.open(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	if err := d.drive(wctx); err != nil {
		demo.LogTail(std.Err, filepath.Join(d.dir, "notekeeper.log"))
		return fmt.Errorf("demo: %w", err)
	}
	rep := demo.Report{URL: d.m.Server.URL(), WebhookPath: d.m.Config.Server.WebhookPath, DataDir: d.dir, Kept: *keep,
		Once: *once, Steps: d.steps, NylasSide: d.nylasSide, User: demoUser, Password: d.password}
	if err := d.world.Report(std.Out, rep); err != nil {
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
	w := d.world
	d.secret, d.password = rand.Text(), rand.Text()[:20]
	if err := w.Open(); err != nil {
		return err
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
		cfg := demoConfig(d.dir, listen, w.Sim.URL(), w.APIKey, d.secret, string(hash),
			w.CRM.URL(), w.CRMKey, w.ATS.URL(), w.ATSKey, w.Sink.URL())
		if w.HubSpot != nil {
			cfg.CRM.Type, cfg.CRM.BaseURL, cfg.CRM.APIKey = "hubspot", w.HubSpot.URL(), config.Literal(w.HubSpot.Token)
			cfg.CRM.TasksFromActionItems = true
		}
		w.Sim.WebhookURL = cfg.PublicURL() + cfg.Server.WebhookPath
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
	return webhookfile.WriteDestination(d.dir, webhookfile.Destination{ID: demo.WebhookID, URL: w.Sim.WebhookURL, CreatedAt: time.Now().UTC()})
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
	d.steps = demo.Script(d.world.Sim, d.world.Sim.URL())
	for _, s := range d.steps {
		if err := driver.Send(ctx, s.Body); err != nil {
			return fmt.Errorf("%s %s: %w", s.Type, s.ID, err)
		}
		if s.AwaitBooking != "" {
			err := demo.Await(ctx, demoTimeout, func() []string {
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
	if err := demo.Await(ctx, demoTimeout, func() []string { return d.world.Missing(d.m.DB) }); err != nil {
		return err
	}
	return d.provision(ctx)
}

// provision runs what `notekeeper nylas plan`, `apply` and `plan` again
// print against the simulator, keeping the text for the report.
func (d *demoRun) provision(ctx context.Context) (err error) {
	p := newProvisioner(d.m.Config, nylas.New(d.m.Config.Nylas.APIBase, d.m.Config.Nylas.APIKey.Value()))
	d.nylasSide, err = demo.Provision(ctx, p)
	return err
}

// close shuts the appliance down, then the stand-ins.
func (d *demoRun) close() error {
	var errs []error
	if d.m != nil {
		errs = append(errs, d.m.Close())
	}
	errs = append(errs, d.world.Close())
	if d.log != nil {
		errs = append(errs, d.log.Close())
	}
	return errors.Join(errs...)
}
