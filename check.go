package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/notekeeper/notekeeper/appliance/check"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/config"
)

// checkMachine checks what a valid configuration needs of this machine: the
// data dir is writable (or can be created), the listening ports are free or
// held by a running notekeeper ([server] listen, or with a domain the [tls]
// ports), and the clock is sane; unless offline, also that a configured
// domain resolves (to one of this machine's addresses, else a warning),
// that the [archive.s3] bucket answers, and that Nylas, the [crm]
// connector and the [ats] connector accept their credentials.
func checkMachine(cfg config.Config, offline bool) []check.Finding {
	out := check.DataDir(cfg.DataDir)
	if f, ok := check.Clock(time.Now()); ok {
		out = append(out, f)
	}
	if !offline {
		if f, ok := checkBucket(cfg); ok {
			out = append(out, f)
		}
		out = append(out, check.Nylas(nylas.New(cfg.Nylas.APIBase, cfg.Nylas.APIKey.Value()), cfg.Nylas.APIBase)...)
		out = append(out, checkVendors(cfg)...)
	}
	if cfg.Server.Domain == "" {
		if f, ok := check.Port("server.listen", cfg.Server.Listen, "http://"+cfg.Server.Listen); ok {
			out = append(out, f)
		}
		return out
	}
	httpAddr := ":" + strconv.Itoa(cfg.TLS.HTTPPort)
	probe := "http://127.0.0.1" + httpAddr
	for _, p := range []struct{ key, addr string }{{"tls.http_port", httpAddr}, {"tls.https_port", ":" + strconv.Itoa(cfg.TLS.HTTPSPort)}} {
		if f, ok := check.Port(p.key, p.addr, probe); ok {
			out = append(out, f)
		}
	}
	if offline {
		return out
	}
	return append(out, check.Domain(cfg.Server.Domain)...)
}

// checkVendors probes the enabled [crm] and [ats] connectors.
func checkVendors(cfg config.Config) []check.Finding {
	var out []check.Finding
	if cfg.CRM.Enabled {
		keys := "crm.api_key"
		if cfg.CRM.Type == "salesforce" {
			keys = "crm.salesforce.client_id/client_secret"
		}
		out = append(out, check.CRM(crmConnector(cfg.CRM, slog.New(slog.DiscardHandler)), keys)...)
	}
	if cfg.ATS.Enabled {
		conn, err := atsConnector(cfg.ATS)
		if err != nil {
			return append(out, check.Problem("%v", err))
		}
		out = append(out, check.ATS(conn)...)
	}
	return out
}

// runCheck validates the configuration and the machine, printing one line
// per finding; it fails (exit 1) when any is a problem, not only warnings.
// With -offline it skips the probes that need the network (the domain's
// DNS, the S3 bucket), as the systemd unit's ExecStartPre does.
func runCheck(_ context.Context, args []string, std stdio) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	path := fs.String("config", config.DefaultPath(), "configuration file")
	offline := fs.Bool("offline", false, "skip the network probes (DNS of the domain, the S3 bucket, Nylas, the CRM, the ATS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("check: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := config.Load(*path)
	var findings []check.Finding
	var cerr *config.Error
	switch {
	case errors.As(err, &cerr):
		for _, p := range cerr.Problems {
			findings = append(findings, check.Problem("%s", p.String()))
		}
	case err != nil:
		findings = append(findings, check.Problem("%v", err))
	default:
		findings = checkMachine(cfg, *offline)
	}
	failed := false
	for _, f := range findings {
		fmt.Fprintln(std.Out, f)
		failed = failed || !f.Warning
	}
	if failed {
		return exitError{}
	}
	fmt.Fprintln(std.Out, "ok")
	return nil
}
