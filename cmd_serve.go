package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/notekeeper/notekeeper/appliance/sdnotify"
	"github.com/notekeeper/notekeeper/config"
)

// The serve command: the daemon's life from start to SIGTERM, with SIGHUP
// reloads and the periodic re-read of the webhook secrets.

func runServe(ctx context.Context, args []string, std stdio) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	path := fs.String("config", config.DefaultPath(), "configuration file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	// Catch SIGHUP before anything else: its default action would end the
	// process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	level := new(slog.LevelVar)
	m := NewMain(cfg, newLogger(cfg.Log, level, std.Err))
	if err := m.Open(); err != nil {
		m.Close()
		return err
	}
	m.Logger.Info("notekeeper ready", slog.String("version", Version), slog.String("url", m.Server.URL()),
		slog.String("webhook_path", cfg.Server.WebhookPath), slog.String("data_dir", cfg.DataDir))
	sdnotify.Notify("READY=1\nSTATUS=serving " + m.Server.URL())
	wdCtx, stopWatchdog := context.WithCancel(ctx)
	defer stopWatchdog()
	go sdnotify.Watchdog(wdCtx, sdnotify.WatchdogInterval(), m.DB.Ping)

	refresh := time.NewTicker(secretRefresh)
	defer refresh.Stop()
wait:
	for {
		select {
		case <-hup:
			m.reload(*path, level)
		case <-refresh.C:
			m.refreshSecrets()
		case <-ctx.Done():
			break wait
		}
	}
	sdnotify.Notify("STOPPING=1")
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

// reload applies what is safe to change without a restart (SIGHUP): the
// webhook secrets (a rotation) and the log level. Everything else — listen
// addresses, the data dir, alert sinks (their number is part of durable task
// keys), CRM/ATS settings — takes a restart. A config that no longer
// validates is refused and the running one kept.
func (m *Main) reload(path string, level *slog.LevelVar) {
	sdnotify.Notify("RELOADING=1")
	defer sdnotify.Notify("READY=1")
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
	routeStdLog(logger) // after SetDefault, which would send it at Info
	return logger
}

// logLevel parses a validated [log] level.
func logLevel(s string) slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(s))
	return l
}
