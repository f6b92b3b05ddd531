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
		for _, probe := range onlineProbes {
			out = append(out, probe(cfg)...)
		}
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

// onlineProbes are the checks of the services a configuration names, run
// by `check` (and so by `doctor`) unless -offline. Each returns what it
// found; a probe of a service that is not configured returns nothing. Wrong
// credentials are a problem, an unreachable host a warning. Adding a probe
// is one line here.
var onlineProbes = []func(config.Config) []check.Finding{
	checkBucket, // [archive.s3]: the bucket answers and takes the keys
	checkNylas,  // [nylas]: the API key, with one authenticated read
	checkCRM,    // [crm]: one authenticated read
	checkATS,    // [ats]: one authenticated read
}

func checkNylas(cfg config.Config) []check.Finding {
	return check.Nylas(nylas.New(cfg.Nylas.APIBase, cfg.Nylas.APIKey.Value()), cfg.Nylas.APIBase)
}

func checkCRM(cfg config.Config) []check.Finding {
	if !cfg.CRM.Enabled {
		return nil
	}
	keys := "crm.api_key"
	if cfg.CRM.Type == "salesforce" {
		keys = "crm.salesforce.client_id/client_secret"
	}
	return check.CRM(crmConnector(cfg.CRM, slog.New(slog.DiscardHandler)), keys)
}

func checkATS(cfg config.Config) []check.Finding {
	if !cfg.ATS.Enabled {
		return nil
	}
	conn, err := atsConnector(cfg.ATS)
	if err != nil {
		return []check.Finding{check.Problem("%v", err)}
	}
	return check.ATS(conn)
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
	findings := checkFindings(*path, *offline)
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

// checkFindings is everything `check` finds for the configuration at path:
// its problems, or once it is valid, those of the machine (checkMachine).
// `doctor` prints the same list, so a probe added here shows in both.
func checkFindings(path string, offline bool) []check.Finding {
	cfg, err := config.Load(path)
	var cerr *config.Error
	switch {
	case errors.As(err, &cerr):
		var findings []check.Finding
		for _, p := range cerr.Problems {
			findings = append(findings, check.Problem("%s", p.String()))
		}
		return findings
	case err != nil:
		return []check.Finding{check.Problem("%v", err)}
	}
	return checkMachine(cfg, offline)
}
