package main

// The listeners: the public HTTP(S) server, automatic HTTPS, metrics.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/admin"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/store"
	apptls "github.com/notekeeper/notekeeper/tls"
)

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
