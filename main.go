// Command notekeeper is a self-hosted appliance that receives Nylas
// Notetaker and Scheduler webhooks, stores them durably, archives meetings
// and delivers them to a CRM or ATS. See README.md and SPEC §2 for the
// commands.
//
// This file only wires: it parses flags and configuration, opens the
// components in order (store → workers → jobs → HTTP) and closes them in
// reverse.
package main

import (
	"context"
	cryptotls "crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/admin"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/ops"
	"github.com/notekeeper/notekeeper/appliance/outbound"
	"github.com/notekeeper/notekeeper/config"
	"github.com/notekeeper/notekeeper/jobs"
	"github.com/notekeeper/notekeeper/store"
	apptls "github.com/notekeeper/notekeeper/tls"
)

// Version is set at build time with -ldflags "-X main.Version=v1.2.3".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var ee exitError
		if !errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, "notekeeper:", err)
		}
		stop()
		os.Exit(1) // the only os.Exit: every defer in run has already executed
	}
}

// exitError makes run fail with exit status 1 after it has already said
// everything itself (check's problem list).
type exitError struct{}

func (exitError) Error() string { return "exit status 1" }

const usage = `usage: notekeeper <command> [flags]

commands:
  serve    run the appliance until SIGTERM/SIGINT
  check    validate the configuration and this machine
  demo     run the whole pipeline on this machine, no Nylas account needed [-once] [-keep-data]
  webhook  create|list|status|rotate-secret: the Nylas webhook destination
  hash-password  read a password on stdin, print its bcrypt hash for [admin] users
  archive  migrate -to s3 [-delete-local]: copy local meetings to the [archive.s3] bucket (daemon stopped)
  version  print version, commit and Go version

operator commands (through the running daemon's socket, else on the store directly):
  status   [-json]                              the appliance at a glance
  events   [-json] [-since T] [-type T]         stored notifications
  tasks    [-failed] [-json]                    the task queue
  retry    KEY | -all-failed                    run a (dead-lettered) task again
  replay   -id ID | -since T                    process stored notifications again
  verify                                        re-hash archived files against their manifests
  backup   -o FILE                              database, certificates and keys as tar.gz
  restore  FILE                                 replace the state with a backup (daemon stopped)
  hold     [-release] NOTETAKER_ID              legal hold: retention keeps the meeting's files

Every command takes -config FILE (default $NOTEKEEPER_CONFIG, then /etc/notekeeper/config.toml).
`

// run executes one command line. It returns when the command is done, or,
// for serve, when ctx is cancelled and everything is shut down.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, args, stderr)
	case "check":
		return runCheck(args, stdout, stderr)
	case "webhook":
		return runWebhook(ctx, args, stdout, stderr)
	case "demo":
		return runDemo(ctx, args, stdout, stderr)
	case "hash-password":
		return runHashPassword(args, os.Stdin, stdout, stderr)
	case "archive":
		return runArchive(ctx, args, stdout, stderr)
	case "status":
		return runStatus(ctx, args, stdout, stderr)
	case "events":
		return runEvents(ctx, args, stdout, stderr)
	case "tasks":
		return runTasks(ctx, args, stdout, stderr)
	case "retry":
		return runRetry(ctx, args, stdout, stderr)
	case "replay":
		return runReplay(ctx, args, stdout, stderr)
	case "verify":
		return runVerify(ctx, args, stdout, stderr)
	case "backup":
		return runBackup(ctx, args, stdout, stderr)
	case "restore":
		return runRestore(ctx, args, stdout, stderr)
	case "hold":
		return runHold(ctx, args, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// parseConfigFlag parses the flags common to commands and loads the config.
func parseConfigFlag(name string, args []string, stderr io.Writer) (config.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", config.DefaultPath(), "configuration file")
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	if fs.NArg() > 0 {
		return config.Config{}, fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	return config.Load(*path)
}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseConfigFlag("serve", args, stderr)
	if err != nil {
		return err
	}
	// Catch SIGHUP before anything else: its default action would end the
	// process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	level := new(slog.LevelVar)
	m := NewMain(cfg, newLogger(cfg.Log, level, stderr))
	if err := m.Open(); err != nil {
		m.Close()
		return err
	}
	m.Logger.Info("notekeeper ready", slog.String("version", Version), slog.String("url", m.Server.URL()),
		slog.String("webhook_path", cfg.Server.WebhookPath), slog.String("data_dir", cfg.DataDir))
	sdNotify("READY=1\nSTATUS=serving " + m.Server.URL())
	wdCtx, stopWatchdog := context.WithCancel(ctx)
	defer stopWatchdog()
	go watchdog(wdCtx, watchdogInterval(), m.DB.Ping)

	refresh := time.NewTicker(secretRefresh)
	defer refresh.Stop()
wait:
	for {
		select {
		case <-hup:
			m.reload(configPath(args), level)
		case <-refresh.C:
			m.refreshSecrets()
		case <-ctx.Done():
			break wait
		}
	}
	sdNotify("STOPPING=1")
	m.Logger.Info("shutting down")
	return m.Close()
}

// refreshSecrets re-reads the webhook secrets (their files may have been
// rewritten by `webhook rotate-secret`) plus a rotated-out one still in its
// grace period, and swaps them into the verifier when they changed.
func (m *Main) refreshSecrets() {
	secrets := acceptedSecrets(m.Config.Nylas.WebhookSecrets, m.Config.DataDir, time.Now())
	if slices.Equal(secrets, m.secrets) {
		return
	}
	m.secrets = secrets
	m.Server.Receiver.Verifier.SetSecrets(secrets...)
	m.Logger.Info("webhook secrets changed", slog.Int("accepted", len(secrets)))
}

// configPath is the -config value of args (or its default).
func configPath(args []string) string {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("config", config.DefaultPath(), "")
	fs.Parse(args)
	return *path
}

// reload applies what is safe to change without a restart (SIGHUP): the
// webhook secrets (a rotation) and the log level. Everything else — listen
// addresses, the data dir, alert sinks (their number is part of durable task
// keys), CRM/ATS settings — takes a restart. A config that no longer
// validates is refused and the running one kept.
func (m *Main) reload(path string, level *slog.LevelVar) {
	sdNotify("RELOADING=1")
	defer sdNotify("READY=1")
	cfg, err := config.Load(path)
	if err != nil {
		m.Logger.Error("reload refused; keeping the running configuration", slog.Any("error", err))
		return
	}
	m.Config.Nylas.WebhookSecrets = cfg.Nylas.WebhookSecrets
	m.refreshSecrets()
	level.Set(logLevel(cfg.Log.Level))
	m.Logger.Info("configuration reloaded", slog.Int("webhook_secrets", len(cfg.Nylas.WebhookSecrets)),
		slog.String("log_level", cfg.Log.Level))
}

// Main holds the running appliance's components.
type Main struct {
	Config config.Config
	Logger *slog.Logger

	DB       *store.DB
	Pool     *appliance.Pool
	Archiver *appliance.Archiver
	// Target is the [archive.s3] bucket (nil when not configured).
	Target  archive.Target
	Jobs    *jobs.Scheduler
	Server  *appliance.Server
	Metrics *appliance.Metrics
	// MetricsSide serves /metrics without auth on [server] metrics_listen.
	MetricsSide *appliance.MetricsServer
	// With [server] domain set: the certificate manager and the plain-HTTP
	// listener (ACME HTTP-01, redirect to HTTPS).
	Certs    *apptls.Manager
	HTTPSide *apptls.HTTPServer
	// Ops is the operator surface; OpsSocket serves it to the CLI.
	Ops       *ops.Service
	OpsSocket *ops.Server

	secrets []string  // webhook secrets the verifier accepts now
	started time.Time // when Open began
}

// NewMain returns a Main for cfg; nothing is opened yet.
func NewMain(cfg config.Config, logger *slog.Logger) *Main {
	return &Main{Config: cfg, Logger: logger}
}

// Shutdown budget: SPEC §4 asks for exit within 30 s of SIGTERM.
const (
	httpShutdownTimeout = 15 * time.Second
	jobsShutdownTimeout = 5 * time.Second
	poolShutdownTimeout = 8 * time.Second
)

// Open opens the store, starts the workers and the jobs and then listens, so
// that a notification is only accepted once everything behind it is up. On
// error the caller still calls Close.
func (m *Main) Open() error {
	m.started = time.Now()
	m.Metrics = appliance.NewMetrics()
	sinks := alertSinks(m.Config.Alerts)
	m.DB = store.NewDB(m.Config.DBPath())
	m.DB.AlertSinks = len(sinks)
	if err := m.DB.Open(); err != nil {
		return err
	}
	key, err := appliance.LoadLinkKey(m.Config.DataDir)
	if err != nil {
		return err
	}
	links := &appliance.Links{Key: key, BaseURL: m.Config.PublicURL(), TTL: m.Config.Archive.LinkTTL.Duration, Now: time.Now}
	if m.Target, err = newTarget(m.Config); err != nil {
		return err
	}
	if err := m.openWorkers(links, sinks); err != nil {
		return err
	}
	m.Ops = newOpsService(m.Config, m.DB, m.Archiver.OnArchived)
	m.Ops.DaemonStatus = m.Status
	if err := m.openJobs(); err != nil {
		return err
	}
	if err := m.openServer(links); err != nil {
		return err
	}
	m.OpsSocket = ops.NewServer(m.Ops, ops.SocketPath(m.Config.DataDir))
	m.OpsSocket.Logger = m.Logger.With(slog.String("component", "ops"))
	return m.OpsSocket.Open()
}

// openCertificates prepares automatic HTTPS for [server] domain: the
// certificate manager and the plain-HTTP listener answering HTTP-01 and
// redirecting. Certificates are obtained once the HTTPS listener is up.
func (m *Main) openCertificates() error {
	cfg := m.Config
	var roots *x509.CertPool
	if cfg.TLS.CARoot != "" {
		pem, err := os.ReadFile(cfg.TLS.CARoot)
		if err != nil {
			return fmt.Errorf("tls.ca_root: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("tls.ca_root: no certificate in %s", cfg.TLS.CARoot)
		}
	}
	m.Certs = &apptls.Manager{
		Domain: cfg.Server.Domain, Email: cfg.TLS.Email, CA: cfg.TLS.CA, Roots: roots,
		StoragePath: filepath.Join(cfg.DataDir, "certmagic"),
		HTTPPort:    cfg.TLS.HTTPPort, HTTPSPort: cfg.TLS.HTTPSPort,
		Logger: m.Logger.With(slog.String("component", "tls")),
		OnFailure: func(domain string, err error) {
			m.DB.RaiseAlert(store.Alert{Kind: "tls.failed", Subject: domain, Message: "certificate could not be obtained or renewed: " + err.Error()})
		},
		OnEvent: m.Metrics.CertificateEvent,
	}
	m.HTTPSide = &apptls.HTTPServer{Addr: ":" + strconv.Itoa(cfg.TLS.HTTPPort), Manager: m.Certs,
		Domain: cfg.Server.Domain, HTTPSPort: cfg.TLS.HTTPSPort}
	return m.HTTPSide.Open()
}

// alertSinks turns the [[alert]] sections into sinks.
func alertSinks(alerts []config.Alert) []appliance.AlertSink {
	sinks := make([]appliance.AlertSink, len(alerts))
	for i, a := range alerts {
		sinks[i] = appliance.AlertSink{Type: a.Type, URL: a.URL.Value(), Kinds: a.Kinds, SMTPAddr: a.SMTPAddr,
			Username: a.Username, Password: a.Password.Value(), From: a.From, To: a.To}
	}
	return sinks
}

// openWorkers builds the task handlers — records, archive, CRM and ATS when
// enabled, alerts — and starts the pool.
func (m *Main) openWorkers(links *appliance.Links, sinks []appliance.AlertSink) error {
	cfg := m.Config
	m.Pool = appliance.NewPool(m.DB)
	m.Pool.Logger = m.Logger.With(slog.String("component", "workers"))
	m.Pool.Workers = cfg.Tasks.Workers
	m.Pool.MaxAttempts = cfg.Tasks.MaxAttempts
	m.Pool.Lease = cfg.Tasks.Lease.Duration
	m.Pool.BackoffBase = cfg.Tasks.BackoffBase.Duration
	m.Pool.BackoffMax = cfg.Tasks.BackoffMax.Duration
	m.Pool.Metrics = m.Metrics

	client := nylas.New(cfg.Nylas.APIBase, cfg.Nylas.APIKey.Value())
	client.Logger = m.Logger.With(slog.String("component", "nylas"))
	m.Archiver = &appliance.Archiver{
		DB:    m.DB,
		Nylas: client,
		Fetcher: &archive.Fetcher{
			AllowHTTP: cfg.Nylas.AllowHTTPMedia,
			Hosts:     cfg.Nylas.MediaHosts,
			MaxBytes:  cfg.Archive.MaxFileBytes,
			Logger:    m.Logger.With(slog.String("component", "fetch")),
		},
		DataDir:       cfg.DataDir,
		Kinds:         cfg.Archive.Kinds,
		Concurrency:   cfg.Archive.Concurrency,
		MinFreeBytes:  cfg.Archive.MinFreeBytes,
		DiskFree:      diskFree(),
		AtRisk:        cfg.Archive.AtRisk.Duration,
		Grants:        cfg.Nylas.Grants,
		DestinationID: func() (string, error) { return destinationID(cfg.DataDir) },
		Logger:        m.Logger.With(slog.String("component", "archive")),
		Now:           time.Now,
		Metrics:       m.Metrics,
	}
	if cfg.Archive.Target == "s3" {
		m.Archiver.Target = m.Target
	}
	m.Archiver.Register(m.Pool)
	records := &appliance.Records{DB: m.DB, Logger: m.Pool.Logger, AfterNotetaker: m.Archiver.Schedule}
	records.Register(m.Pool)

	var crm *appliance.CRM
	if cfg.CRM.Enabled {
		crm = &appliance.CRM{
			DB:                 m.DB,
			Nylas:              client,
			API:                &outbound.Client{BaseURL: cfg.CRM.BaseURL, APIKey: cfg.CRM.APIKey.Value()},
			ContactsSearchPath: cfg.CRM.ContactsSearchPath,
			MeetingsPath:       cfg.CRM.MeetingsPath,
			InternalDomains:    cfg.InternalDomains,
			Links:              links,
			DataDir:            cfg.DataDir,
			Logger:             m.Logger.With(slog.String("component", "crm")),
		}
		crm.Register(m.Pool)
	}
	var ats *appliance.ATS
	if cfg.ATS.Enabled {
		ats = &appliance.ATS{
			DB:              m.DB,
			Nylas:           client,
			API:             &outbound.Client{BaseURL: cfg.ATS.BaseURL, APIKey: cfg.ATS.APIKey.Value()},
			InterviewsPath:  cfg.ATS.InterviewsPath,
			RecordingsPath:  cfg.ATS.RecordingsPath,
			InternalDomains: cfg.InternalDomains,
			Links:           links,
			DataDir:         cfg.DataDir,
			Logger:          m.Logger.With(slog.String("component", "ats")),
		}
		ats.Register(m.Pool)
		records.AfterBooking = ats.ScheduleBooking
	}
	m.Archiver.OnArchived = appliance.RouteArchived(m.DB, crm, ats)

	alerter := &appliance.Alerter{DB: m.DB, Sinks: sinks, Logger: m.Logger.With(slog.String("component", "alerts"))}
	alerter.Register(m.Pool)
	m.Pool.DeadLetterAlert = alerter.DeadLetter
	return m.Pool.Open()
}

// openJobs schedules the [jobs] specs.
func (m *Main) openJobs() error {
	cfg := m.Config.Jobs
	m.Jobs = jobs.New(m.Logger.With(slog.String("component", "jobs")))
	for _, j := range []struct {
		name, spec string
		fn         jobs.Func
	}{
		{"refresh_media", cfg.RefreshMedia, m.Archiver.RefreshMedia},
		{"archive_sweep", cfg.ArchiveSweep, m.Archiver.Sweep},
		{"reconcile", cfg.Reconcile, m.Archiver.Reconcile},
		{"webhook_watchdog", cfg.WebhookWatchdog, m.Archiver.WebhookWatchdog},
		{"backup", cfg.Backup, m.Ops.BackupJob(m.Config.Backup.Keep)},
		{"retention", cfg.Retention, m.Ops.RetentionJob(ops.RetentionPolicy{
			MediaKeepDays: m.Config.Archive.KeepDays, NotificationKeepDays: m.Config.Store.KeepDays})},
	} {
		if err := m.Jobs.Add(j.name, j.spec, j.fn); err != nil {
			return err
		}
	}
	return m.Jobs.Open()
}

// openServer listens: webhook receiver, health, signed file links.
func (m *Main) openServer(links *appliance.Links) error {
	cfg := m.Config
	m.Server = appliance.NewServer()
	m.Server.Addr = cfg.Server.Listen
	if cfg.Server.Domain != "" {
		if err := m.openCertificates(); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.TLS.HTTPSPort))
		if err != nil {
			return fmt.Errorf("open https listener: %w", err)
		}
		m.Server.Listener = cryptotls.NewListener(ln, m.Certs.TLSConfig())
	}
	m.Server.WebhookPath = cfg.Server.WebhookPath
	m.Server.Logger = m.Logger.With(slog.String("component", "http"))
	m.Server.Receiver = &appliance.Receiver{
		DB:           m.DB,
		Verifier:     appliance.NewVerifier(),
		MaxBodyBytes: cfg.Server.MaxBodyBytes,
		Logger:       m.Server.Logger,
		Metrics:      m.Metrics,
	}
	m.refreshSecrets()
	m.Server.Links = links
	m.Server.DataDir = cfg.DataDir
	m.Server.Target = m.Target
	ui, err := admin.New(admin.Config{DB: m.DB, Users: cfg.Admin.Users, Links: links, DataDir: cfg.DataDir,
		Status: m.Status, AtRisk: cfg.Archive.AtRisk.Duration, Logger: m.Logger.With(slog.String("component", "admin"))})
	if err != nil {
		return err
	}
	m.Server.Admin = ui
	m.Server.Metrics = ui.Protect(m.Metrics.Handler(m.Logger))
	m.Server.Checks = []appliance.Check{
		{Name: "store", Fn: m.DB.Ping},
		appliance.DiskCheck(cfg.DataDir, cfg.Archive.MinFreeBytes, diskFree()),
	}
	if m.Certs != nil {
		m.Server.Checks = append(m.Server.Checks, appliance.Check{Name: "certificate", Fn: m.Certs.Check})
	}
	if err := m.openMetrics(); err != nil {
		return err
	}
	if err := m.Server.Open(); err != nil {
		return err
	}
	if m.Certs != nil {
		// Both listeners are up: the CA can validate. Obtain in the
		// background; /readyz says 503 until the certificate is there.
		return m.Certs.Open(context.Background(), false)
	}
	return nil
}

// openMetrics registers the state gauges and, with [server] metrics_listen,
// opens the unauthenticated metrics listener. (On the public listener
// /metrics sits behind the admin users' basic auth.)
func (m *Main) openMetrics() error {
	src := appliance.StateSources{
		DB:       m.DB,
		AtRisk:   m.Config.Archive.AtRisk.Duration,
		DiskFree: func() (uint64, error) { return diskFree()(m.Config.DataDir) },
	}
	if m.Certs != nil {
		src.CertificateExpiry = m.Certs.Status
	}
	m.Metrics.WatchState(src)
	if m.Config.Server.MetricsListen == "" {
		return nil
	}
	m.MetricsSide = &appliance.MetricsServer{
		Addr:    m.Config.Server.MetricsListen,
		Handler: m.Metrics.Handler(m.Logger),
		Logger:  m.Logger.With(slog.String("component", "metrics")),
	}
	return m.MetricsSide.Open()
}

// Close shuts down in reverse order, each step bounded: HTTP (answer what is
// in flight), jobs (running ones are cancelled and awaited), workers
// (interrupted tasks keep their lease for the next start), the certificate
// cache, store. It runs
// every step and returns their errors joined.
func (m *Main) Close() error {
	var errs []error
	if m.Server != nil || m.HTTPSide != nil || m.MetricsSide != nil || m.OpsSocket != nil {
		ctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
		if m.OpsSocket != nil {
			errs = append(errs, m.OpsSocket.Close(ctx))
		}
		if m.HTTPSide != nil {
			errs = append(errs, m.HTTPSide.Close(ctx))
		}
		if m.Server != nil {
			errs = append(errs, m.Server.Close(ctx))
		}
		if m.MetricsSide != nil {
			errs = append(errs, m.MetricsSide.Close(ctx))
		}
		cancel()
	}
	if m.Jobs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), jobsShutdownTimeout)
		errs = append(errs, m.Jobs.Close(ctx))
		cancel()
	}
	if m.Pool != nil {
		ctx, cancel := context.WithTimeout(context.Background(), poolShutdownTimeout)
		errs = append(errs, m.Pool.Close(ctx))
		cancel()
	}
	if m.Certs != nil {
		errs = append(errs, m.Certs.Close())
	}
	if m.DB != nil {
		errs = append(errs, m.DB.Close())
	}
	return errors.Join(errs...)
}

// newLogger builds the process's one logger from [log]; level can be
// changed later (SIGHUP).
func newLogger(c config.Log, level *slog.LevelVar, w io.Writer) *slog.Logger {
	level.Set(logLevel(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	logger := slog.New(h)
	slog.SetDefault(logger)
	return logger
}

// logLevel parses a validated [log] level.
func logLevel(s string) slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(s))
	return l
}

// versionString is "notekeeper VERSION (commit REV[, modified]) GOVERSION".
func versionString() string {
	commit, modified, goVersion := "unknown", "", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = ", modified"
				}
			}
		}
	}
	return fmt.Sprintf("notekeeper %s (commit %s%s) %s", Version, commit, modified, goVersion)
}

// runCheck validates the configuration and the machine, printing one line
// per finding; it fails (exit 1) when any is a problem, not only warnings.
// With -offline it skips the probes that need the network (the domain's
// DNS, the S3 bucket), as the systemd unit's ExecStartPre does.
func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", config.DefaultPath(), "configuration file")
	offline := fs.Bool("offline", false, "skip the network probes (DNS of the domain, the S3 bucket)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("check: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := config.Load(*path)
	var findings []finding
	var cerr *config.Error
	switch {
	case errors.As(err, &cerr):
		for _, p := range cerr.Problems {
			findings = append(findings, problem("%s", p.String()))
		}
	case err != nil:
		findings = append(findings, problem("%v", err))
	default:
		findings = checkMachine(cfg, *offline)
	}
	failed := false
	for _, f := range findings {
		fmt.Fprintln(stdout, f)
		failed = failed || !f.Warning
	}
	if failed {
		return exitError{}
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// testDiskFreeEnv names a test hook, not a setting: when the variable is set,
// the file it names holds the free bytes (a decimal number) the appliance
// believes its data dir has, read at every measurement, so that the soak
// test (soak_test.go) can open and close a disk-full window on the running
// binary. Only this wiring reads it; it is not documented for operators.
const testDiskFreeEnv = "NOTEKEEPER_TEST_DISK_FREE_FILE"

// diskFree is the free-space function the archiver, the readiness check and
// the metrics use: appliance.DiskFree, or the test hook above.
func diskFree() func(path string) (uint64, error) {
	hook := os.Getenv(testDiskFreeEnv)
	if hook == "" {
		return appliance.DiskFree
	}
	return func(string) (uint64, error) {
		b, err := os.ReadFile(hook)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", testDiskFreeEnv, err)
		}
		n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", testDiskFreeEnv, err)
		}
		return n, nil
	}
}
