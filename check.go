package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/config"
)

// A finding of `check`: problems fail it (exit 1), warnings and notes are
// printed but do not.
type finding struct {
	Warning bool
	Text    string
}

func (f finding) String() string {
	if f.Warning {
		return "warning: " + f.Text
	}
	return f.Text
}

func problem(format string, args ...any) finding { return finding{Text: fmt.Sprintf(format, args...)} }
func warning(format string, args ...any) finding {
	return finding{Warning: true, Text: fmt.Sprintf(format, args...)}
}

// checkMachine checks what a valid configuration needs of this machine: the
// data dir is writable (or can be created), the listening ports are free or
// held by a running notekeeper ([server] listen, or with a domain the [tls]
// ports), and the clock is sane; unless offline, also that a configured
// domain resolves (to one of this machine's addresses, else a warning),
// that the [archive.s3] bucket answers, and that Nylas, the [crm]
// connector and the [ats] connector accept their credentials (checkNylas,
// checkCRM, checkATS).
func checkMachine(cfg config.Config, offline bool) []finding {
	var out []finding
	if err := checkWritableDir(cfg.DataDir); err != nil {
		out = append(out, problem("data_dir: %v", err))
	} else if fi, err := os.Stat(cfg.DataDir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		out = append(out, warning("data_dir: %s has mode %04o; notekeeper creates it 0700 (chmod 700 it: it holds recordings and keys)",
			cfg.DataDir, fi.Mode().Perm()))
	}
	if !clockSane(time.Now()) {
		out = append(out, problem("clock: %s is not a plausible time; fix the clock (certificates and signed links depend on it)",
			time.Now().UTC().Format(time.RFC3339)))
	}
	if !offline {
		if f, ok := checkBucket(cfg); ok {
			out = append(out, f)
		}
		out = append(out, checkNylas(cfg)...)
		out = append(out, checkCRM(cfg)...)
		if f, ok := checkATS(cfg); ok {
			out = append(out, f)
		}
	}
	if cfg.Server.Domain == "" {
		if f, ok := checkPort("server.listen", cfg.Server.Listen, "http://"+cfg.Server.Listen); ok {
			out = append(out, f)
		}
		return out
	}
	httpAddr := ":" + strconv.Itoa(cfg.TLS.HTTPPort)
	probe := "http://127.0.0.1" + httpAddr
	for _, p := range []struct{ key, addr string }{{"tls.http_port", httpAddr}, {"tls.https_port", ":" + strconv.Itoa(cfg.TLS.HTTPSPort)}} {
		if f, ok := checkPort(p.key, p.addr, probe); ok {
			out = append(out, f)
		}
	}
	if offline {
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, cfg.Server.Domain)
	switch {
	case err != nil:
		out = append(out, problem("server.domain: %s does not resolve: %v", cfg.Server.Domain, err))
	case len(addrs) == 0:
		out = append(out, problem("server.domain: %s has no addresses", cfg.Server.Domain))
	case !anyLocal(addrs):
		out = append(out, warning("server.domain: %s resolves to %s, none of them an address of this machine "+
			"(fine behind NAT or a load balancer; otherwise certificates cannot be obtained)", cfg.Server.Domain, strings.Join(addrs, ", ")))
	}
	return out
}

// checkPort reports whether addr can be bound now; a port already held by a
// running notekeeper (its /healthz, at probe, answers) is a note, not a problem.
func checkPort(key, addr, probe string) (finding, bool) {
	err := checkBindable(addr)
	if err == nil {
		return finding{}, false
	}
	c := &http.Client{Timeout: 2 * time.Second}
	if resp, herr := c.Get(probe + "/healthz"); herr == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return warning("%s: %s is held by a running notekeeper", key, addr), true
		}
	}
	return problem("%s: %v", key, err), true
}

// anyLocal reports whether one of addrs is an address of this machine.
func anyLocal(addrs []string) bool {
	ifaces, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		ip := net.ParseIP(a)
		for _, ia := range ifaces {
			if n, ok := ia.(*net.IPNet); ok && ip != nil && n.IP.Equal(ip) {
				return true
			}
		}
	}
	return false
}

// clockSane reports whether now can be right: not before this binary was
// built (when the build recorded it) and not before 2025 nor after 2100.
func clockSane(now time.Time) bool {
	if now.Year() < 2025 || now.Year() > 2100 {
		return false
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				if built, err := time.Parse(time.RFC3339, s.Value); err == nil && now.Before(built.Add(-24*time.Hour)) {
					return false
				}
			}
		}
	}
	return true
}

// checkBindable reports whether notekeeper could listen on addr now.
func checkBindable(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			err = op.Err
		}
		hint := ""
		if _, port, perr := net.SplitHostPort(addr); perr == nil {
			if p, _ := strconv.Atoi(port); p > 0 && p < 1024 {
				hint = " (ports below 1024 need CAP_NET_BIND_SERVICE)"
			}
		}
		return fmt.Errorf("cannot listen on %s: %v%s", addr, err, hint)
	}
	return ln.Close()
}

// checkWritableDir reports whether dir can hold notekeeper's files: it
// writes and removes a probe file there, or, when dir does not exist yet
// (serve creates it), in its nearest existing ancestor.
func checkWritableDir(dir string) error {
	target := dir
	for {
		fi, err := os.Stat(target)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", target)
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		parent := filepath.Dir(target)
		if parent == target {
			return fmt.Errorf("%s: no existing parent directory", dir)
		}
		target = parent
	}
	f, err := os.CreateTemp(target, ".notekeeper-check-*")
	if err != nil {
		return fmt.Errorf("%s is not writable: %w", target, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
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
		fmt.Fprintln(std.Out, f)
		failed = failed || !f.Warning
	}
	if failed {
		return exitError{}
	}
	fmt.Fprintln(std.Out, "ok")
	return nil
}
