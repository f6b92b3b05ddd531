// Command notekeeper is a self-hosted appliance that receives Nylas
// Notetaker and Scheduler webhooks, stores them durably, archives meetings
// and delivers them to a CRM or ATS. `notekeeper help` lists the commands;
// README.md describes them.
//
// This file wires: the command table (each command's flags live beside it,
// in cmd_*.go and check.go), and Main, which opens the components of serve
// in order (store → workers → jobs → HTTP) and closes them in reverse.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/admin"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/ops"
	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/appliance/webhookfile"
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
	routeStdLog(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		code := 1
		var ee exitError
		var es exitStatus
		switch {
		case errors.As(err, &es):
			code = int(es) // nylas plan: 2, changes pending
		case !errors.As(err, &ee):
			fmt.Fprintln(os.Stderr, "notekeeper:", err)
		}
		stop()
		os.Exit(code) // the only os.Exit: every defer in run has already executed
	}
}

// exitError makes run fail with exit status 1 after it has already said
// everything itself (check's problem list).
type exitError struct{}

func (exitError) Error() string { return "exit status 1" }

// exitStatus makes run end the process with that status, having said
// everything itself (nylas plan's 2: changes pending).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// stdio is a command's standard streams.
type stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// command is one `notekeeper NAME …`: its arguments and what it does, as the
// usage text shows them, and the function that runs it. run returns when
// the command is done (serve: when ctx is cancelled and everything is shut
// down); exitError means it has already said why it failed.
type command struct {
	name     string
	args     string
	summary  string
	operator bool // talks to the running daemon's socket, else opens the store
	run      func(ctx context.Context, args []string, std stdio) error
}

// commandTable lists every command, in the order of the usage text; the
// operator commands come last.
func commandTable() []command {
	return []command{
		{name: "serve", summary: "run the appliance until SIGTERM/SIGINT", run: runServe},
		{name: "check", args: "[-offline]", summary: "validate the configuration and this machine (-offline: no DNS or bucket probe)", run: runCheck},
		{name: "demo", args: "[-once] [-keep-data]", summary: "run the whole pipeline on this machine, no Nylas account needed", run: runDemo},
		{name: "webhook", args: "create|list|status|rotate-secret", summary: "the Nylas webhook destination", run: runWebhook},
		{name: "nylas", args: "plan|apply|grants", summary: "the [[calendar]] and [[scheduler]] tables on the Nylas side; the grants", run: runNylas},
		{name: "bot", args: "join URL | cancel ID | leave ID", summary: "an ad-hoc Notetaker for one meeting (-grant, -at, -name)", run: runBot},
		{name: "hash-password", summary: "read a password on stdin, print its bcrypt hash for [admin] users", run: runHashPassword},
		{name: "archive", args: "migrate -to s3 [-delete-local]", summary: "copy local meetings to the [archive.s3] bucket (daemon stopped)", run: runArchive},
		{name: "version", summary: "print version, commit and Go version", run: runVersion},
		{name: "help", summary: "print this text", run: runHelp},

		{name: "status", args: "[-json]", summary: "the appliance at a glance", operator: true, run: runStatus},
		{name: "events", args: "[-json] [-since T] [-type T]", summary: "stored notifications", operator: true, run: runEvents},
		{name: "tasks", args: "[-failed] [-json]", summary: "the task queue", operator: true, run: runTasks},
		{name: "retry", args: "KEY | -all-failed", summary: "run a (dead-lettered) task again", operator: true, run: runRetry},
		{name: "replay", args: "-id ID | -since T", summary: "process stored notifications again", operator: true, run: runReplay},
		{name: "verify", summary: "re-hash archived files against their manifests", operator: true, run: runVerify},
		{name: "backup", args: "-o FILE", summary: "database, certificates and keys as tar.gz", operator: true, run: runBackup},
		{name: "restore", args: "FILE", summary: "replace the state with a backup (daemon stopped)", operator: true, run: runRestore},
		{name: "hold", args: "[-release] NOTETAKER_ID", summary: "legal hold: retention keeps the meeting's files", operator: true, run: runHold},
		{name: "search", args: "[-json] [-limit N] QUERY", summary: "full-text search over archived meetings, best match first", operator: true, run: runSearch},
		{name: "export", args: "NOTETAKER_ID -o FILE", summary: "one meeting's files, manifest and SHA256SUMS as tar.gz", operator: true, run: runExport},
		{name: "reindex", summary: "settle missing meeting metadata and rebuild the search index", operator: true, run: runReindex},
	}
}

// commandAliases are other spellings of a command.
var commandAliases = map[string]string{
	"-version": "version", "--version": "version",
	"-h": "help", "-help": "help", "--help": "help",
}

// usage is the text `notekeeper help` prints, made from the command table
// (whose operator commands come last).
func usage() string {
	var b strings.Builder
	b.WriteString("usage: notekeeper <command> [flags]\n\ncommands:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0) // a line without a tab starts a new alignment
	operators := false
	for _, c := range commandTable() {
		if c.operator && !operators {
			operators = true
			fmt.Fprint(tw, "\noperator commands (through the running daemon's socket, else on the store directly):\n")
		}
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	tw.Flush()
	b.WriteString("\nEvery command takes -config FILE (default $NOTEKEEPER_CONFIG, then /etc/notekeeper/config.toml).\n")
	return b.String()
}

// run executes one command line with the process's stdin.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	std := stdio{In: os.Stdin, Out: stdout, Err: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return errors.New("no command given")
	}
	name, args := args[0], args[1:]
	name = cmp.Or(commandAliases[name], name)
	for _, c := range commandTable() {
		if c.name == name {
			return c.run(ctx, args, std)
		}
	}
	fmt.Fprint(stderr, usage())
	return fmt.Errorf("unknown command %q", name)
}

func runHelp(_ context.Context, _ []string, std stdio) error {
	_, err := fmt.Fprint(std.Out, usage())
	return err
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
	// Index is the meetings' search index (wiring_search.go).
	Index *search.Index

	secrets []string  // webhook secrets the verifier accepts now
	started time.Time // when Open began
}

// NewMain returns a Main for cfg; nothing is opened yet.
func NewMain(cfg config.Config, logger *slog.Logger) *Main {
	return &Main{Config: cfg, Logger: logger}
}

// Shutdown budget: notekeeper exits within 30 s of SIGTERM (the unit
// allows 45 s before it kills).
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
	key, err := links.LoadKey(m.Config.DataDir)
	if err != nil {
		return err
	}
	signer := &links.Signer{Key: key, BaseURL: m.Config.PublicURL(), TTL: m.Config.Archive.LinkTTL.Duration, Now: time.Now}
	if m.Target, err = newTarget(m.Config); err != nil {
		return err
	}
	if err := m.openIndex(); err != nil {
		return err
	}
	if err := m.openWorkers(signer, sinks); err != nil {
		return err
	}
	m.Ops = newOpsService(m.Config, m.DB, m.Archiver.OnArchived)
	m.Ops.DaemonStatus = m.Status
	m.wireSearchOps()
	if err := m.openJobs(); err != nil {
		return err
	}
	if err := m.openServer(signer); err != nil {
		return err
	}
	m.OpsSocket = ops.NewServer(m.Ops, datadir.SocketPath(m.Config.DataDir))
	m.OpsSocket.Logger = m.Logger.With(slog.String("component", "ops"))
	return m.OpsSocket.Open()
}

// openCertificates prepares automatic HTTPS for [server] domain: the
// certificate manager and the plain-HTTP listener answering HTTP-01 and
// redirecting. Certificates are obtained once the HTTPS listener is up.
func (m *Main) openCertificates() error {
	cfg := m.Config
	roots, err := apptls.LoadRoots(cfg.TLS.CARoot)
	if err != nil {
		return err
	}
	m.Certs = &apptls.Manager{
		Domain: cfg.Server.Domain, Email: cfg.TLS.Email, CA: cfg.TLS.CA, Roots: roots,
		StoragePath: datadir.CertPath(cfg.DataDir),
		HTTPPort:    cfg.TLS.HTTPPort, HTTPSPort: cfg.TLS.HTTPSPort,
		Logger: m.Logger.With(slog.String("component", "tls")),
		OnFailure: func(domain string, err error) {
			m.DB.RaiseAlert(store.Alert{Kind: store.AlertTLSFailed, Subject: domain, Message: "certificate could not be obtained or renewed: " + err.Error()})
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
		kinds := make([]store.AlertKind, len(a.Kinds))
		for j, k := range a.Kinds {
			kinds[j] = store.AlertKind(k)
		}
		sinks[i] = appliance.AlertSink{Type: a.Type, URL: a.URL.Value(), Kinds: kinds, SMTPAddr: a.SMTPAddr,
			Username: a.Username, Password: a.Password.Value(), From: a.From, To: a.To}
	}
	return sinks
}

// openWorkers builds the pipeline's parts from the configuration (records,
// archive, CRM and ATS when enabled, alerts), installs it on the pool
// (appliance/pipeline.go) and starts the pool.
func (m *Main) openWorkers(signer *links.Signer, sinks []appliance.AlertSink) error {
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
		DestinationID: func() (string, error) { return webhookfile.DestinationID(cfg.DataDir) },
		Logger:        m.Logger.With(slog.String("component", "archive")),
		Now:           time.Now,
		Metrics:       m.Metrics,
		Index:         m.Index,
	}
	if cfg.Archive.Target == "s3" {
		m.Archiver.Target = m.Target
	}
	p := &appliance.Pipeline{
		DB:       m.DB,
		Records:  &appliance.Records{DB: m.DB, Logger: m.Pool.Logger},
		Archiver: m.Archiver,
		Alerter:  &appliance.Alerter{DB: m.DB, Sinks: sinks, Logger: m.Logger.With(slog.String("component", "alerts"))},
	}
	if cfg.CRM.Enabled {
		logger := m.Logger.With(slog.String("component", "crm"))
		p.CRM = &appliance.CRM{
			DB:                   m.DB,
			Nylas:                client,
			Connector:            crmConnector(cfg.CRM, logger),
			InternalDomains:      cfg.InternalDomains,
			CreateContacts:       cfg.CRM.CreateContacts,
			TasksFromActionItems: cfg.CRM.TasksFromActionItems,
			Links:                signer,
			DataDir:              cfg.DataDir,
			Logger:               logger,
		}
	}
	if cfg.ATS.Enabled {
		conn, err := atsConnector(cfg.ATS)
		if err != nil {
			return err
		}
		p.ATS = &appliance.ATS{
			DB:              m.DB,
			Nylas:           client,
			Conn:            conn,
			InternalDomains: cfg.InternalDomains,
			Links:           signer,
			DataDir:         cfg.DataDir,
			Logger:          m.Logger.With(slog.String("component", "ats")),
		}
	}
	if cfg.Followup.Enabled {
		p.Followup = &appliance.Followup{
			DB:              m.DB,
			Nylas:           client,
			Links:           signer,
			DataDir:         cfg.DataDir,
			InternalDomains: cfg.InternalDomains,
			To:              cfg.Followup.To,
			Subject:         cfg.Followup.Subject,
			Logger:          m.Logger.With(slog.String("component", "followup")),
		}
	}
	p.Install(m.Pool)
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
func (m *Main) openServer(signer *links.Signer) error {
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
		m.Server.Listener, m.Server.TLSConfig = ln, m.Certs.TLSConfig()
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
	m.Server.Links = signer
	m.Server.DataDir = cfg.DataDir
	m.Server.Target = m.Target
	ui, err := admin.New(admin.Config{DB: m.DB, Users: cfg.Admin.Users, Links: signer, DataDir: cfg.DataDir,
		Status: m.Status, AtRisk: cfg.Archive.AtRisk.Duration, Logger: m.Logger.With(slog.String("component", "admin")),
		Search: m.Index, Target: m.Target})
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
	errs = append(errs, m.closeIndex())
	if m.Certs != nil {
		errs = append(errs, m.Certs.Close())
	}
	if m.DB != nil {
		errs = append(errs, m.DB.Close())
	}
	return errors.Join(errs...)
}
