package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// checkMachine checks what a valid configuration needs of this machine and
// returns one line per problem: the data dir is writable, the listening
// ports are free to bind ([server] listen, or with a domain the [tls] HTTP
// and HTTPS ports), and a configured domain resolves.
func checkMachine(cfg Config) []string {
	var problems []string
	if err := checkWritableDir(cfg.DataDir); err != nil {
		problems = append(problems, "data_dir: "+err.Error())
	}
	if cfg.Server.Domain == "" {
		if err := checkBindable(cfg.Server.Listen); err != nil {
			problems = append(problems, "server.listen: "+err.Error())
		}
		return problems
	}
	for _, p := range []struct {
		key  string
		port int
	}{{"tls.http_port", cfg.TLS.HTTPPort}, {"tls.https_port", cfg.TLS.HTTPSPort}} {
		if err := checkBindable(":" + strconv.Itoa(p.port)); err != nil {
			problems = append(problems, p.key+": "+err.Error())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if addrs, err := net.DefaultResolver.LookupHost(ctx, cfg.Server.Domain); err != nil {
		problems = append(problems, fmt.Sprintf("server.domain: %s does not resolve: %v", cfg.Server.Domain, err))
	} else if len(addrs) == 0 {
		problems = append(problems, fmt.Sprintf("server.domain: %s has no addresses", cfg.Server.Domain))
	}
	return problems
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
		return fmt.Errorf("cannot listen on %s: %v%s (is notekeeper already running?)", addr, err, hint)
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
