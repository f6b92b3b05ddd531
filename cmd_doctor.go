package main

// `notekeeper doctor`: one screen an operator can paste into a support
// request. It shows the version, a summary of the configuration with every
// secret as its reference (env:NAME, file:/path, [literal]) and never its
// value, what `check` finds (the same list, probes included), DNS and
// ports, and then, through the running daemon's socket or else the store
// opened read-only, the certificate, the disk, the queue with its dead
// letters and the jobs' last runs.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/check"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/ops"
	"github.com/notekeeper/notekeeper/config"
	apptls "github.com/notekeeper/notekeeper/tls"
)

// doctorDeadLetters is how many dead-lettered tasks doctor lists.
const doctorDeadLetters = 5

// runDoctor prints the report. It succeeds whenever it could print one, even
// when check finds problems (`check`'s exit status is the verdict): run from
// a shell without the service's environment, an unset variable is a finding
// of that shell, not of the running service.
func runDoctor(ctx context.Context, args []string, std stdio) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	path := fs.String("config", config.DefaultPath(), "configuration file")
	offline := fs.Bool("offline", false, "skip the network probes (DNS of the domain, the S3 bucket, the services check probes)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("doctor: unexpected argument %q", fs.Arg(0))
	}
	w := std.Out
	line := func(k, format string, a ...any) { fmt.Fprintf(w, "%-12s %s\n", k, fmt.Sprintf(format, a...)) }
	fmt.Fprintf(w, "notekeeper doctor at %s; secrets are shown as references, never values\n\n", time.Now().UTC().Format(time.RFC3339))
	line("version", "%s %s/%s", versionString(), runtime.GOOS, runtime.GOARCH)

	if abs, err := filepath.Abs(*path); err == nil {
		*path = abs
	}
	cfg, cerr := config.LoadUnresolved(*path)
	if cerr != nil {
		line("config", "%s: not valid (see check below)", *path)
	} else {
		line("config", "%s", *path)
		doctorConfig(line, cfg)
	}

	findings := checkFindings(*path, *offline)
	fmt.Fprintln(w, "\ncheck (as `notekeeper check` sees it from this shell's environment):")
	for _, f := range findings {
		kind := "problem"
		if f.Warning {
			kind = "warning"
		}
		fmt.Fprintf(w, "  %s: %s\n", kind, strings.TrimPrefix(f.Text, "warning: "))
	}
	if len(findings) == 0 {
		fmt.Fprintln(w, "  ok")
	}
	if cerr == nil {
		fmt.Fprintln(w)
		doctorNetwork(w, line, cfg, *offline)
		fmt.Fprintln(w)
		doctorState(ctx, w, line, cfg)
	}
	return nil
}

// doctorConfig prints the configuration's shape (config.Summary).
func doctorConfig(line func(string, string, ...any), cfg config.Config) {
	for _, l := range config.Summary(cfg) {
		line(l.Key, "%s", l.Text)
	}
}

// doctorNetwork prints the domain's addresses and the state of each port
// notekeeper listens on.
func doctorNetwork(w io.Writer, line func(string, string, ...any), cfg config.Config, offline bool) {
	type port struct{ key, addr, probe string }
	var ports []port
	if d := cfg.Server.Domain; d != "" {
		var addrs []string
		var err error
		if !offline {
			addrs, err = check.LookupHost(d)
		}
		switch {
		case offline:
			line("dns", "%s: not looked up (-offline)", d)
		case err != nil:
			line("dns", "%s: does not resolve: %v", d, err)
		default:
			where := "none of them an address of this machine"
			if check.AnyLocal(addrs) {
				where = "an address of this machine"
			}
			line("dns", "%s → %s (%s)", d, strings.Join(addrs, ", "), where)
		}
		probe := "http://127.0.0.1:" + strconv.Itoa(cfg.TLS.HTTPPort)
		ports = append(ports, port{"tls.http_port", ":" + strconv.Itoa(cfg.TLS.HTTPPort), probe},
			port{"tls.https_port", ":" + strconv.Itoa(cfg.TLS.HTTPSPort), probe})
	} else {
		ports = append(ports, port{"server.listen", cfg.Server.Listen, "http://" + cfg.Server.Listen})
	}
	if m := cfg.Server.MetricsListen; m != "" {
		ports = append(ports, port{"server.metrics_listen", m, "http://" + m})
	}
	for _, p := range ports {
		line("port", "%s %s: %s", p.key, p.addr, check.PortState(p.addr, p.probe))
	}
}

// doctorState prints the daemon's view through its socket, else the store's
// (opened read-only): certificate, disk, webhook, counts, dead letters, jobs.
func doctorState(ctx context.Context, w io.Writer, line func(string, string, ...any), cfg config.Config) {
	if _, err := os.Stat(cfg.DBPath()); os.IsNotExist(err) {
		if _, derr := os.Stat(datadir.SocketPath(cfg.DataDir)); os.IsNotExist(derr) {
			line("store", "%s does not exist yet: notekeeper has not run with this data dir", cfg.DBPath())
			return
		}
	}
	c := &opsCommand{name: "doctor", cfg: cfg, stdout: w, stderr: io.Discard}
	op, done, err := c.operator(false)
	if err != nil {
		line("store", "cannot be read: %v", err)
		return
	}
	defer done()
	st, err := op.Status(ctx)
	if err != nil {
		line("store", "cannot be read: %v", err)
		return
	}
	if !st.Daemon && cfg.Server.Domain != "" {
		st.Domain = cfg.Server.Domain
		st.CertificateExpiry = apptls.StoredExpiry(datadir.CertPath(cfg.DataDir), cfg.Server.Domain)
	}
	ops.PrintStatus(w, st)
	line("disk floor", "%s ([archive] min_free_bytes: downloads pause below it)", datadir.FormatBytes(cfg.Archive.MinFreeBytes))
	if !st.Daemon {
		line("jobs", "last runs are known to the running daemon only")
	}
	dead, err := op.Tasks(ctx, true)
	if err != nil {
		line("dead letter", "cannot be listed: %v", err)
		return
	}
	for _, l := range ops.DeadLetterLines(dead, doctorDeadLetters) {
		line("dead letter", "%s", l)
	}
}
