// Package check holds the probes `notekeeper check` makes of this machine:
// the data dir, the clock, the listening ports and the domain's DNS. Each
// returns Findings; package main keeps the list of what to check for a
// configuration (and the probes of Nylas, the CRM, the ATS and the bucket,
// which need connectors it wires).
package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// A Finding of `check`: problems fail it (exit 1), warnings and notes are
// printed but do not.
type Finding struct {
	Warning bool
	Text    string
}

func (f Finding) String() string {
	if f.Warning {
		return "warning: " + f.Text
	}
	return f.Text
}

// Problem is a Finding that fails the check.
func Problem(format string, args ...any) Finding { return Finding{Text: fmt.Sprintf(format, args...)} }

// Warning is a Finding that is printed but does not fail the check.
func Warning(format string, args ...any) Finding {
	return Finding{Warning: true, Text: fmt.Sprintf(format, args...)}
}

// DataDir checks that dir is writable (or can be created) and warns when
// it is open to other users.
func DataDir(dir string) []Finding {
	if err := WritableDir(dir); err != nil {
		return []Finding{Problem("data_dir: %v", err)}
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return []Finding{Warning("data_dir: %s has mode %04o; notekeeper creates it 0700 (chmod 700 it: it holds recordings and keys)",
			dir, fi.Mode().Perm())}
	}
	return nil
}

// Clock is a problem when now cannot be right (see ClockSane).
func Clock(now time.Time) (Finding, bool) {
	if ClockSane(now) {
		return Finding{}, false
	}
	return Problem("clock: %s is not a plausible time; fix the clock (certificates and signed links depend on it)",
		now.UTC().Format(time.RFC3339)), true
}

// Domain checks that domain resolves, to an address of this machine (else
// a warning: fine behind NAT or a load balancer).
func Domain(domain string) []Finding {
	addrs, err := LookupHost(domain)
	switch {
	case err != nil:
		return []Finding{Problem("server.domain: %s does not resolve: %v", domain, err)}
	case len(addrs) == 0:
		return []Finding{Problem("server.domain: %s has no addresses", domain)}
	case !AnyLocal(addrs):
		return []Finding{Warning("server.domain: %s resolves to %s, none of them an address of this machine "+
			"(fine behind NAT or a load balancer; otherwise certificates cannot be obtained)", domain, strings.Join(addrs, ", "))}
	}
	return nil
}

// Port reports whether addr can be bound now; a port already held by a
// running notekeeper (its /healthz, at probe, answers) is a note, not a problem.
func Port(key, addr, probe string) (Finding, bool) {
	err := Bindable(addr)
	if err == nil {
		return Finding{}, false
	}
	if NotekeeperAt(probe) {
		return Warning("%s: %s is held by a running notekeeper", key, addr), true
	}
	return Problem("%s: %v", key, err), true
}

// AnyLocal reports whether one of addrs is an address of this machine.
func AnyLocal(addrs []string) bool {
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

// ClockSane reports whether now can be right: not before this binary was
// built (when the build recorded it) and not before 2025 nor after 2100.
func ClockSane(now time.Time) bool {
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

// Bindable reports whether notekeeper could listen on addr now.
func Bindable(addr string) error {
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

// WritableDir reports whether dir can hold notekeeper's files: it
// writes and removes a probe file there, or, when dir does not exist yet
// (serve creates it), in its nearest existing ancestor.
func WritableDir(dir string) error {
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

// NotekeeperAt reports whether a notekeeper answers /healthz at base.
func NotekeeperAt(base string) bool {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(base + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// PortState says whether addr is free, held by a running notekeeper (its
// /healthz at probe answers), or taken by something else (why it cannot be
// bound).
func PortState(addr, probe string) string {
	err := Bindable(addr)
	if err == nil {
		return "free (nothing listens there now)"
	}
	if NotekeeperAt(probe) {
		return "held by a running notekeeper"
	}
	return err.Error()
}

// LookupHost resolves host, bounded by 10 s.
func LookupHost(host string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupHost(ctx, host)
}
