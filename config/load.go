package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Load reads the file at path and parses it with Parse. A file
// that cannot be read gives a wrapped os error (errors.Is(err,
// fs.ErrNotExist) works); a file that can be read but is not a valid
// configuration gives a *Error.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return Parse(data)
}

// Parse parses a TOML configuration. Keys the file leaves out keep
// their Default value. It rejects unknown keys, wrong types and invalid
// values, resolves every secret in use (environment variables are read with
// os.LookupEnv, relative file: paths under $CREDENTIALS_DIRECTORY) and
// normalises the result (see Config).
//
// On any problem it returns a zero Config and a *Error listing all
// problems found, in file order. No error message contains a secret's value.
//
// Secrets of a disabled [crm] or [ats] and of alerts that do not use them are
// not resolved, so a missing environment variable there does not stop
// start-up.
func Parse(data []byte) (Config, error) {
	return parseConfig(data, newLoader())
}

// LoadUnresolved is Load without resolving secrets, for the
// operator commands (status, backup, …), which need the data dir and plain
// settings but no secret: a systemd credential or an environment variable
// the operator's shell does not have is not a problem there. Every env: and
// file: secret of the result has an empty Value.
func LoadUnresolved(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	l := newLoader()
	l.unresolved = true
	return parseConfig(data, l)
}

func parseConfig(data []byte, l *loader) (Config, error) {
	cfg := Default()
	if err := l.decode(data, &cfg); err != nil {
		return Config{}, err
	}
	cfg.normalize()
	if !l.unresolved {
		l.resolveSecrets(&cfg)
	}
	l.validate(&cfg)
	if len(l.problems) > 0 {
		l.sortProblems()
		return Config{}, &Error{Problems: l.problems}
	}
	return cfg, nil
}

// PublicURL returns the base URL of links handed to the CRM and ATS, without
// a trailing "/": server.public_url when set; else "https://{domain}", with
// ":{https_port}" unless the port is 443; else "http://{listen}", with
// "localhost" in place of an empty or unspecified (0.0.0.0, ::) host.
func (c *Config) PublicURL() string {
	if c.Server.PublicURL != "" {
		return strings.TrimSuffix(c.Server.PublicURL, "/")
	}
	if c.Server.Domain != "" {
		if c.TLS.HTTPSPort == 443 || c.TLS.HTTPSPort == 0 {
			return "https://" + c.Server.Domain
		}
		return "https://" + net.JoinHostPort(c.Server.Domain, strconv.Itoa(c.TLS.HTTPSPort))
	}
	host, port, err := net.SplitHostPort(c.Server.Listen)
	if err != nil {
		return "http://" + c.Server.Listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// DBPath returns the path of the bbolt database inside the data directory.
func (c *Config) DBPath() string {
	return filepath.Join(c.DataDir, "notekeeper.db")
}

// normalize applies the normalisations documented on Config.
func (c *Config) normalize() {
	for i, d := range c.InternalDomains {
		c.InternalDomains[i] = strings.ToLower(d)
	}
	for i, h := range c.Nylas.MediaHosts {
		c.Nylas.MediaHosts[i] = strings.ToLower(h)
	}
	c.Server.Domain = strings.ToLower(c.Server.Domain)
	for _, u := range []*string{&c.Server.PublicURL, &c.Nylas.APIBase, &c.CRM.BaseURL, &c.ATS.BaseURL, &c.CRM.Salesforce.LoginURL} {
		if strings.Contains(*u, "://") {
			*u = strings.TrimSuffix(*u, "/")
		}
	}
}
