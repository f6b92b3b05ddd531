package main

// The workers (the pipeline's parts, from the configuration) and the jobs.

import (
	"log/slog"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/ops"
	"github.com/notekeeper/notekeeper/appliance/webhookfile"
	"github.com/notekeeper/notekeeper/config"
	"github.com/notekeeper/notekeeper/jobs"
	"github.com/notekeeper/notekeeper/store"
)

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
