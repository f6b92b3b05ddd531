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
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/ops"
	"github.com/notekeeper/notekeeper/config"
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
		doctorConfig(w, line, cfg)
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

// doctorConfig prints the configuration's shape: where it serves, which
// sections are on, and every secret as its reference.
func doctorConfig(w io.Writer, line func(string, string, ...any), cfg config.Config) {
	if cfg.Server.Domain != "" {
		line("domain", "%s: HTTPS on :%d, ACME and redirect on :%d, ca %s", cfg.Server.Domain, cfg.TLS.HTTPSPort, cfg.TLS.HTTPPort, cfg.TLS.CA)
	} else {
		line("domain", "none: plain HTTP on %s", cfg.Server.Listen)
	}
	line("public url", "%s (webhook path %s)", cfg.PublicURL(), cfg.Server.WebhookPath)
	line("data dir", "%s", cfg.DataDir)
	line("nylas", "%s, %d grants, media hosts %s%s", hostOnly(cfg.Nylas.APIBase), len(cfg.Nylas.Grants),
		orNone(strings.Join(cfg.Nylas.MediaHosts, ", "), "any public https host"),
		map[bool]string{true: ", allow_http_media (test mode)"}[cfg.Nylas.AllowHTTPMedia])
	archive := cfg.Archive.Target
	if cfg.Archive.S3Used() {
		archive += fmt.Sprintf(" (bucket %s at %s, prefix %q)", cfg.Archive.S3.Bucket, hostOnly(cfg.Archive.S3.Endpoint), cfg.Archive.S3.Prefix)
	}
	line("archive", "%s; kinds %s; keep_days %d", archive, strings.Join(cfg.Archive.Kinds, ", "), cfg.Archive.KeepDays)
	line("crm", "%s", connectorSummary(cfg.CRM.Enabled, cfg.CRM.Type, cfg.CRM.BaseURL))
	line("ats", "%s", connectorSummary(cfg.ATS.Enabled, cfg.ATS.Type, cfg.ATS.BaseURL))
	if cfg.Followup.Enabled {
		line("followup", "on, to %s", cfg.Followup.To)
	} else {
		line("followup", "off")
	}
	types := make([]string, len(cfg.Alerts))
	for i, a := range cfg.Alerts {
		types[i] = a.Type
	}
	line("alerts", "%d sinks%s", len(cfg.Alerts), prefixed(": ", strings.Join(types, ", ")))
	line("admin", "%d users%s", len(cfg.Admin.Users), map[bool]string{true: " (the UI is off)"}[len(cfg.Admin.Users) == 0])
	line("nylas side", "%d [[calendar]], %d [[scheduler]]", len(cfg.Calendars), len(cfg.Schedulers))
	for _, s := range secretRefs(cfg) {
		note := ""
		if !secretInUse(cfg, s.key) {
			note = " (section off: not read)"
		}
		line("secret", "%s = %s%s", s.key, s.ref, note)
	}
}

// connectorSummary is "off", or the type and where it points ("the
// vendor's API" when base_url is empty).
func connectorSummary(enabled bool, typ, baseURL string) string {
	if !enabled {
		return "off"
	}
	return typ + " at " + orNone(hostOnly(baseURL), "the vendor's API")
}

// hostOnly is u's scheme and host: no user information, path or query,
// which may carry a token.
func hostOnly(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// secretRef is one secret of the configuration: its full key and what the
// file says it is (config.Secret.String: never the value).
type secretRef struct{ key, ref string }

// secretRefs lists every non-empty secret of cfg in the order of the
// schema, found by walking Config, so a secret added to the schema is listed
// without a change here.
func secretRefs(cfg config.Config) []secretRef {
	var out []secretRef
	secretType := reflect.TypeFor[config.Secret]()
	var walk func(v reflect.Value, key string)
	walk = func(v reflect.Value, key string) {
		switch {
		case v.Type() == secretType:
			if s := v.Interface().(config.Secret); s.String() != "" {
				out = append(out, secretRef{key, s.String()})
			}
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				name := v.Type().Field(i).Tag.Get("toml")
				walk(v.Field(i), strings.TrimPrefix(key+"."+name, "."))
			}
		case v.Kind() == reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i), key+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	walk(reflect.ValueOf(cfg), "")
	return out
}

// secretInUse reports whether the secret at key is read: those of a
// disabled [crm] or [ats], or of an unused [archive.s3], are not.
func secretInUse(cfg config.Config, key string) bool {
	switch {
	case strings.HasPrefix(key, "crm."):
		return cfg.CRM.Enabled
	case strings.HasPrefix(key, "ats."):
		return cfg.ATS.Enabled
	case strings.HasPrefix(key, "archive.s3."):
		return cfg.Archive.S3Used()
	}
	return true
}

// doctorNetwork prints the domain's addresses and the state of each port
// notekeeper listens on.
func doctorNetwork(w io.Writer, line func(string, string, ...any), cfg config.Config, offline bool) {
	type port struct{ key, addr, probe string }
	var ports []port
	if d := cfg.Server.Domain; d != "" {
		switch addrs, err := lookupHost(d, offline); {
		case offline:
			line("dns", "%s: not looked up (-offline)", d)
		case err != nil:
			line("dns", "%s: does not resolve: %v", d, err)
		default:
			where := "none of them an address of this machine"
			if anyLocal(addrs) {
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
		line("port", "%s %s: %s", p.key, p.addr, portState(p.addr, p.probe))
	}
}

func lookupHost(host string, offline bool) ([]string, error) {
	if offline {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupHost(ctx, host)
}

// portState says whether addr is free, held by a running notekeeper (its
// /healthz at probe answers), or taken by something else.
func portState(addr, probe string) string {
	err := checkBindable(addr)
	if err == nil {
		return "free (nothing listens there now)"
	}
	if notekeeperAt(probe) {
		return "held by a running notekeeper"
	}
	return err.Error()
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
		st.CertificateExpiry = storedCertificateExpiry(cfg.DataDir, cfg.Server.Domain)
	}
	printStatus(w, st)
	line("disk floor", "%s ([archive] min_free_bytes: downloads pause below it)", datadir.FormatBytes(cfg.Archive.MinFreeBytes))
	if !st.Daemon {
		line("jobs", "last runs are known to the running daemon only")
	}
	doctorDeadLettered(ctx, line, op)
}

// doctorDeadLettered lists the first dead-lettered tasks with their last
// error.
func doctorDeadLettered(ctx context.Context, line func(string, string, ...any), op ops.Operator) {
	dead, err := op.Tasks(ctx, true)
	if err != nil {
		line("dead letter", "cannot be listed: %v", err)
		return
	}
	for i, t := range dead {
		if i == doctorDeadLetters {
			line("dead letter", "… and %d more: notekeeper tasks -failed", len(dead)-i)
			break
		}
		msg := t.LastError
		if len(msg) > 160 {
			msg = strings.ToValidUTF8(msg[:160], "") + "…"
		}
		line("dead letter", "%s after %d attempts: %s", t.Key(), t.Attempts, msg)
	}
}

// storedCertificateExpiry reads the NotAfter of the certificate certmagic
// keeps for domain under the data dir ({data_dir}/certmagic/certificates/
// ISSUER/DOMAIN/DOMAIN.crt); zero when there is none.
func storedCertificateExpiry(dataDir, domain string) time.Time {
	matches, _ := filepath.Glob(filepath.Join(datadir.CertPath(dataDir), "certificates", "*", domain, domain+".crt"))
	var latest time.Time
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		if blk, _ := pem.Decode(b); blk != nil {
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil && c.NotAfter.After(latest) {
				latest = c.NotAfter
			}
		}
	}
	return latest
}
