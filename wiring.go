package main

// Main: the components of `notekeeper serve`, opened in order and closed in
// reverse.

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/ops"
	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/config"
	"github.com/notekeeper/notekeeper/jobs"
	"github.com/notekeeper/notekeeper/store"
	apptls "github.com/notekeeper/notekeeper/tls"
)

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
