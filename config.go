package main

// This file is notekeeper's configuration layer: the Config type that mirrors
// the TOML file (SPEC §3), its defaults, and ParseConfig, which turns the
// bytes of a file into a Config or into a ConfigError listing every problem.
//
// Parsing happens in four steps:
//
//  1. The TOML syntax is parsed into raw values (toml.Primitive). A syntax
//     error ends parsing here and is reported with its line.
//  2. The raw values are walked against the Config type key by key, so that
//     every unknown key and every wrong type is found, not just the first one,
//     and each problem names its full key ("alert[1].url",
//     "nylas.webhook_secrets[0]", "admin.users.bob").
//  3. Secret references (env:NAME, file:/path) are resolved.
//  4. Every value with a domain is validated.
//
// Problems are reported in file order, so the list reads top to bottom like
// the file itself.

import (
	"bytes"
	"crypto/x509"
	"encoding"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"

	"github.com/notekeeper/notekeeper/jobs"
)

// DefaultConfigPath returns the configuration file used when no -config flag
// is given: $NOTEKEEPER_CONFIG when set and non-empty, else
// /etc/notekeeper/config.toml.
func DefaultConfigPath() string {
	if p := os.Getenv("NOTEKEEPER_CONFIG"); p != "" {
		return p
	}
	return "/etc/notekeeper/config.toml"
}

// Config is the whole TOML configuration file. The toml tags are the keys of
// SPEC §3 and must not change: operators' files and scripts depend on them.
//
// A Config returned by ParseConfig is valid and normalised: internal_domains,
// media_hosts and server.domain are lower case; public_url, api_base and the
// CRM/ATS base_url carry no trailing "/"; every secret in use is resolved.
// A Config built by hand (DefaultConfig plus edits, as in tests and the demo)
// carries no such guarantee.
type Config struct {
	DataDir         string        `toml:"data_dir"`
	InternalDomains []string      `toml:"internal_domains"`
	Log             LogConfig     `toml:"log"`
	Server          ServerConfig  `toml:"server"`
	TLS             TLSConfig     `toml:"tls"`
	Nylas           NylasConfig   `toml:"nylas"`
	Archive         ArchiveConfig `toml:"archive"`
	Jobs            JobsConfig    `toml:"jobs"`
	Tasks           TasksConfig   `toml:"tasks"`
	Store           StoreConfig   `toml:"store"`
	Backup          BackupConfig  `toml:"backup"`
	CRM             CRMConfig     `toml:"crm"`
	ATS             ATSConfig     `toml:"ats"`
	Alerts          []AlertConfig `toml:"alert"`
	Admin           AdminConfig   `toml:"admin"`
}

// LogConfig is the [log] table.
type LogConfig struct {
	Level  string `toml:"level"`  // debug | info | warn | error
	Format string `toml:"format"` // text | json
}

// ServerConfig is the [server] table.
type ServerConfig struct {
	Domain       string `toml:"domain"`         // public DNS name; "" = plain HTTP on Listen
	Listen       string `toml:"listen"`         // host:port, used when Domain is ""
	WebhookPath  string `toml:"webhook_path"`   // path Nylas posts to
	PublicURL    string `toml:"public_url"`     // base of links handed out; see Config.PublicURL
	MaxBodyBytes int64  `toml:"max_body_bytes"` // webhook body limit
	// MetricsListen, when set, serves /metrics (without authentication) on
	// its own plain-HTTP listener, e.g. "127.0.0.1:9090" for a local
	// Prometheus. Not in SPEC §3.
	MetricsListen string `toml:"metrics_listen"`
}

// TLSConfig is the [tls] table, used when server.domain is set.
type TLSConfig struct {
	Email     string `toml:"email"`      // ACME account e-mail
	CA        string `toml:"ca"`         // "letsencrypt" | "letsencrypt-staging" | ACME directory URL
	CARoot    string `toml:"ca_root"`    // PEM file of a private ACME CA's root
	HTTPPort  int    `toml:"http_port"`  // ACME HTTP-01 and redirect
	HTTPSPort int    `toml:"https_port"` // HTTPS listener
}

// NylasConfig is the [nylas] table.
type NylasConfig struct {
	APIBase        string   `toml:"api_base"`
	APIKey         Secret   `toml:"api_key"`
	WebhookSecrets []Secret `toml:"webhook_secrets"` // every one is accepted
	Grants         []string `toml:"grants"`          // grant IDs to reconcile
	MediaHosts     []string `toml:"media_hosts"`     // empty = any public https host
	AllowHTTPMedia bool     `toml:"allow_http_media"`
}

// ArchiveConfig is the [archive] table.
type ArchiveConfig struct {
	Kinds        []string `toml:"kinds"`
	MaxFileBytes int64    `toml:"max_file_bytes"`
	MinFreeBytes int64    `toml:"min_free_bytes"`
	Concurrency  int      `toml:"concurrency"`
	AtRisk       Duration `toml:"at_risk"`
	KeepDays     int      `toml:"keep_days"` // 0 = forever
	Target       string   `toml:"target"`    // "local" | "s3"
	LinkTTL      Duration `toml:"link_ttl"`
	S3           S3Config `toml:"s3"`
}

// S3Config is the [archive.s3] table: S3-compatible object storage, used
// when [archive] target = "s3", by `archive migrate -to s3`, and to serve
// links to files already moved to the bucket. It is validated (and its
// secrets resolved) when target = "s3" or bucket is set.
type S3Config struct {
	Endpoint     string `toml:"endpoint"` // http(s)://host[:port]
	Region       string `toml:"region"`
	Bucket       string `toml:"bucket"`
	Prefix       string `toml:"prefix"` // "" or ending in "/"
	AccessKey    Secret `toml:"access_key"`
	SecretKey    Secret `toml:"secret_key"`
	PathStyle    bool   `toml:"path_style"`
	StorageClass string `toml:"storage_class"`
	SSE          string `toml:"sse"` // "" | "AES256" | "aws:kms" | "aws:kms:KEY_ID"
}

// S3Used reports whether the [archive.s3] table is in use.
func (a ArchiveConfig) S3Used() bool { return a.Target == "s3" || a.S3.Bucket != "" }

// JobsConfig is the [jobs] table: robfig/cron specs as accepted by
// jobs.ParseSpec. An empty spec disables the job.
type JobsConfig struct {
	RefreshMedia    string `toml:"refresh_media"`
	ArchiveSweep    string `toml:"archive_sweep"`
	Reconcile       string `toml:"reconcile"`
	WebhookWatchdog string `toml:"webhook_watchdog"`
	Backup          string `toml:"backup"`
	Retention       string `toml:"retention"` // prune per [archive] keep_days and [store] keep_days; not in SPEC §3
}

// StoreConfig is the [store] table (not in SPEC §3).
type StoreConfig struct {
	// KeepDays prunes stored notification bodies (and their dedupe keys)
	// older than this many days; 0 keeps them forever. At least 7, so that a
	// dedupe key outlives every Nylas retry (the last comes within ~20 min).
	KeepDays int `toml:"keep_days"`
}

// BackupConfig is the [backup] table (not in SPEC §3).
type BackupConfig struct {
	Keep int `toml:"keep"` // backups kept in {data_dir}/backups by the backup job, 1..1000
}

// TasksConfig is the [tasks] table. It is not part of SPEC §3: it tunes the
// durable task queue behind archiving, CRM/ATS delivery and alerts.
type TasksConfig struct {
	Workers     int      `toml:"workers"`      // tasks run at once, 1..64
	MaxAttempts int      `toml:"max_attempts"` // then the task is dead-lettered, 1..1000
	Lease       Duration `toml:"lease"`        // a task not finished within its lease runs again, >= 1s
	BackoffBase Duration `toml:"backoff_base"` // first retry delay, doubled per attempt, > 0
	BackoffMax  Duration `toml:"backoff_max"`  // retry delay cap, >= BackoffBase
}

// CRMConfig is the [crm] table.
type CRMConfig struct {
	Enabled            bool   `toml:"enabled"`
	BaseURL            string `toml:"base_url"`
	APIKey             Secret `toml:"api_key"`
	ContactsSearchPath string `toml:"contacts_search_path"`
	MeetingsPath       string `toml:"meetings_path"`
}

// ATSConfig is the [ats] table.
type ATSConfig struct {
	Enabled        bool   `toml:"enabled"`
	BaseURL        string `toml:"base_url"`
	APIKey         Secret `toml:"api_key"`
	InterviewsPath string `toml:"interviews_path"`
	RecordingsPath string `toml:"recordings_path"`
}

// AlertConfig is one [[alert]] entry. Type selects which other keys apply:
// "slack" and "webhook" use URL; "email" uses SMTPAddr, Username, Password,
// From and To. Kinds, when not empty, limits the alert kinds sent.
type AlertConfig struct {
	Type     string   `toml:"type"`      // "slack" | "webhook" | "email"
	URL      Secret   `toml:"url"`       // slack incoming-webhook URL or webhook URL
	Kinds    []string `toml:"kinds"`     // empty = every kind
	SMTPAddr string   `toml:"smtp_addr"` // email: host:port
	Username string   `toml:"username"`  // email: SMTP AUTH user, optional
	Password Secret   `toml:"password"`  // email: SMTP AUTH password, with Username
	From     string   `toml:"from"`      // email: sender address
	To       []string `toml:"to"`        // email: recipients, at least one
}

// AdminConfig is the [admin] table.
type AdminConfig struct {
	Users map[string]string `toml:"users"` // name -> bcrypt hash, for the web UI
}

// DefaultConfig returns the defaults of SPEC §3 plus [tasks]. Its secrets are
// unresolved references (Value is ""); ParseConfig resolves them. Each call
// returns a fresh Config that shares nothing with any other.
func DefaultConfig() Config {
	return Config{
		DataDir:         "/var/lib/notekeeper",
		InternalDomains: []string{},
		Log:             LogConfig{Level: "info", Format: "text"},
		Server: ServerConfig{
			Listen:       "127.0.0.1:8080",
			WebhookPath:  "/webhooks/nylas",
			MaxBodyBytes: 2097152,
		},
		TLS: TLSConfig{
			CA:        "letsencrypt",
			HTTPPort:  80,
			HTTPSPort: 443,
		},
		Nylas: NylasConfig{
			APIBase:        "https://api.us.nylas.com",
			APIKey:         Secret{ref: "env:NYLAS_API_KEY"},
			WebhookSecrets: []Secret{{ref: "env:NYLAS_WEBHOOK_SECRET"}},
			Grants:         []string{},
			MediaHosts:     []string{},
		},
		Archive: ArchiveConfig{
			Kinds:        configArchiveKinds(),
			MaxFileBytes: 10737418240,
			MinFreeBytes: 2147483648,
			Concurrency:  2,
			AtRisk:       Duration{72 * time.Hour},
			KeepDays:     0,
			Target:       "local",
			LinkTTL:      Duration{8760 * time.Hour},
			S3: S3Config{
				Region:    "us-east-1",
				Prefix:    "notekeeper/",
				AccessKey: Secret{ref: "env:S3_ACCESS_KEY_ID"},
				SecretKey: Secret{ref: "env:S3_SECRET_ACCESS_KEY"},
			},
		},
		Jobs: JobsConfig{
			RefreshMedia:    "@every 30m",
			ArchiveSweep:    "@every 1h",
			Reconcile:       "@every 6h",
			WebhookWatchdog: "@every 15m",
			Backup:          "@daily",
			Retention:       "@every 6h",
		},
		Backup: BackupConfig{Keep: 7},
		Tasks: TasksConfig{
			Workers:     4,
			MaxAttempts: 12,
			Lease:       Duration{10 * time.Minute},
			BackoffBase: Duration{5 * time.Second},
			BackoffMax:  Duration{time.Hour},
		},
		CRM: CRMConfig{
			ContactsSearchPath: "/api/contacts/search",
			MeetingsPath:       "/api/meetings",
		},
		ATS: ATSConfig{
			InterviewsPath: "/api/interviews",
			RecordingsPath: "/api/interview-recordings",
		},
		Admin: AdminConfig{Users: map[string]string{}},
	}
}

// LoadConfig reads the file at path and parses it with ParseConfig. A file
// that cannot be read gives a wrapped os error (errors.Is(err,
// fs.ErrNotExist) works); a file that can be read but is not a valid
// configuration gives a *ConfigError.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(data)
}

// ParseConfig parses a TOML configuration. Keys the file leaves out keep
// their DefaultConfig value. It rejects unknown keys, wrong types and invalid
// values, resolves every secret in use (environment variables are read with
// os.LookupEnv, relative file: paths under $CREDENTIALS_DIRECTORY) and
// normalises the result (see Config).
//
// On any problem it returns a zero Config and a *ConfigError listing all
// problems found, in file order. No error message contains a secret's value.
//
// Secrets of a disabled [crm] or [ats] and of alerts that do not use them are
// not resolved, so a missing environment variable there does not stop
// start-up.
func ParseConfig(data []byte) (Config, error) {
	return parseConfig(data, newConfigLoader())
}

// LoadConfigUnresolved is LoadConfig without resolving secrets, for the
// operator commands (status, backup, …), which need the data dir and plain
// settings but no secret: a systemd credential or an environment variable
// the operator's shell does not have is not a problem there. Every env: and
// file: secret of the result has an empty Value.
func LoadConfigUnresolved(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	l := newConfigLoader()
	l.unresolved = true
	return parseConfig(data, l)
}

func parseConfig(data []byte, l *configLoader) (Config, error) {
	cfg := DefaultConfig()
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
		return Config{}, &ConfigError{Problems: l.problems}
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
	for _, u := range []*string{&c.Server.PublicURL, &c.Nylas.APIBase, &c.CRM.BaseURL, &c.ATS.BaseURL} {
		if strings.Contains(*u, "://") {
			*u = strings.TrimSuffix(*u, "/")
		}
	}
}

// Secret is a configuration value that must not be shown: an API key, a
// webhook secret, a Slack URL, an SMTP password. In the file it is written as
//
//   - a literal: the value itself;
//   - "env:NAME": the value of environment variable NAME;
//   - "file:/path": the first line of a file, without its trailing "\n" or
//     "\r\n";
//   - "file:name" (relative): the first line of $CREDENTIALS_DIRECTORY/name,
//     the directory systemd fills from LoadCredential=; it is an error when
//     that variable is unset or name leaves the directory.
//
// A literal cannot start with "env:" or "file:"; put such a value in a file.
//
// String, Format, MarshalText and LogValue never return the value: they show
// the reference ("env:NAME", "file:/path"), "[literal]" for a literal, or ""
// when empty. Only Value does. The zero Secret is empty.
type Secret struct {
	ref   string // as written in the file
	value string // resolved; never printed
}

// Value returns the secret itself: the literal, or what Resolve read. It is ""
// for an env: or file: reference that has not been resolved.
func (s Secret) Value() string { return s.value }

// Ref returns the secret as written in the file. For a literal that is the
// value itself: do not log it; log the Secret (or String) instead.
func (s Secret) Ref() string { return s.ref }

// String returns a description safe to log: "env:NAME", "file:/path",
// "[literal]", or "" for an empty secret.
func (s Secret) String() string {
	switch {
	case s.ref == "":
		return ""
	case s.isEnv(), s.isFile():
		return s.ref
	default:
		return "[literal]"
	}
}

// Format implements fmt.Formatter so that every verb, %d and %#v included,
// prints String and never the value.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprintf(f, "Secret(%q)", s.String())
	case verb == 'q':
		fmt.Fprintf(f, "%q", s.String())
	default:
		io.WriteString(f, s.String())
	}
}

// LogValue implements slog.LogValuer: a Secret is logged as its String.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler, used by the TOML and JSON
// encoders (and so by slog's JSON handler). It returns the reference for env:
// and file: secrets and "[literal]" for a literal: encoding a Config never
// writes a literal secret out.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. It records the reference
// and, for a literal, the value; env: and file: references keep an empty
// value until Resolve. It fails on a malformed reference ("env:" with no
// valid variable name, "file:" with no path).
func (s *Secret) UnmarshalText(text []byte) error {
	ref := string(text)
	switch {
	case strings.HasPrefix(ref, "env:"):
		if name := ref[len("env:"):]; !configIsEnvName(name) {
			return fmt.Errorf("env:%s: not a valid environment variable name (letters, digits, _)", name)
		}
		*s = Secret{ref: ref}
	case strings.HasPrefix(ref, "file:"):
		if ref == "file:" {
			return errors.New("file: needs a path, e.g. file:/etc/notekeeper/api_key")
		}
		*s = Secret{ref: ref}
	default:
		*s = Secret{ref: ref, value: ref}
	}
	return nil
}

// Resolve reads the value the secret refers to. Environment variables are
// looked up with os.LookupEnv: an unset variable is an error, an empty one is
// not (validation reports empty secrets where a value is required). Errors
// name the variable or file, never a value.
func (s *Secret) Resolve() error {
	switch {
	case s.isEnv():
		name := strings.TrimPrefix(s.ref, "env:")
		v, ok := os.LookupEnv(name)
		if !ok {
			return fmt.Errorf("environment variable %s is not set", name)
		}
		s.value = v
	case s.isFile():
		v, err := configReadSecretFile(strings.TrimPrefix(s.ref, "file:"))
		if err != nil {
			return err
		}
		s.value = v
	default:
		s.value = s.ref
	}
	return nil
}

func (s Secret) isEnv() bool  { return strings.HasPrefix(s.ref, "env:") }
func (s Secret) isFile() bool { return strings.HasPrefix(s.ref, "file:") }

// configReadSecretFile returns the first line of the file a file: secret
// names (p is the part after "file:").
func configReadSecretFile(p string) (string, error) {
	name, full := "file:"+p, p
	if !filepath.IsAbs(p) {
		dir := os.Getenv("CREDENTIALS_DIRECTORY")
		if dir == "" {
			return "", fmt.Errorf("%s is a relative path but $CREDENTIALS_DIRECTORY is not set (use an absolute path, or LoadCredential= in the systemd unit)", name)
		}
		if !filepath.IsLocal(p) {
			return "", fmt.Errorf("%s must name a file inside $CREDENTIALS_DIRECTORY", name)
		}
		full = filepath.Join(dir, p)
		name = fmt.Sprintf("%s (%s)", name, full)
	}
	f, err := os.Open(full)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", name, configUnwrapPath(err))
	}
	defer f.Close()
	const limit = 64 << 10
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", name, configUnwrapPath(err))
	}
	line, _, found := bytes.Cut(data, []byte("\n"))
	if !found && len(data) > limit {
		return "", fmt.Errorf("read %s: first line is longer than %d bytes", name, limit)
	}
	return string(bytes.TrimSuffix(line, []byte("\r"))), nil
}

// configUnwrapPath drops the *fs.PathError wrapper, whose text repeats the
// path and the operation ("open /x: ..."), keeping its cause.
func configUnwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Duration is a time.Duration written in TOML as a string ("72h", "30m",
// "1h30m"), as accepted by time.ParseDuration.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler. The error quotes the bad
// value.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("invalid duration %q: write a number with a unit, e.g. \"30m\" or \"72h\"", text)
	}
	d.Duration = v
	return nil
}

// String returns the duration in the shortest form ParseDuration reads
// back: "72h" and "1h30m" rather than time.Duration's "72h0m0s" and
// "1h30m0s".
func (d Duration) String() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalText implements encoding.TextMarshaler with String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// ConfigError is returned by ParseConfig and LoadConfig for a configuration
// that cannot be used. It lists every problem found, in file order.
type ConfigError struct {
	Problems []Problem
}

// Problem is one thing wrong with a configuration. Key is the full key it is
// about: "server.max_body_bytes", "nylas.webhook_secrets[0]", "alert[1].url",
// "admin.users.bob"; it is empty for a TOML syntax error, whose Message starts
// with "line N:".
type Problem struct {
	Key     string
	Message string
}

// String returns "key: message", or the message alone when Key is empty.
func (p Problem) String() string {
	if p.Key == "" {
		return p.Message
	}
	return p.Key + ": " + p.Message
}

// Error returns "config: key: message" for a single problem, and for several
// "config: N problems:" followed by one indented "key: message" line each.
func (e *ConfigError) Error() string {
	switch len(e.Problems) {
	case 0:
		return "config: invalid"
	case 1:
		return "config: " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "config: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// configLoader holds the state of one ParseConfig call.
type configLoader struct {
	md       toml.MetaData
	firstPos map[string]int  // dotted TOML key -> index of its first appearance in md.Keys()
	count    map[string]int  // dotted TOML key -> appearances (>1 inside [[alert]])
	start    map[string]int  // our key -> visit number, in file order
	end      map[string]int  // our key -> visit number after its children
	seq      int             // next visit number
	bad      map[string]bool // keys whose value could not be decoded or resolved
	reported map[string]bool // dotted TOML keys already reported as unknown or mistyped
	problems []Problem
	// unresolved: secrets are not resolved, so an empty one is no problem
	// (LoadConfigUnresolved).
	unresolved bool
}

func newConfigLoader() *configLoader {
	return &configLoader{
		firstPos: make(map[string]int),
		count:    make(map[string]int),
		start:    make(map[string]int),
		end:      make(map[string]int),
		bad:      make(map[string]bool),
		reported: make(map[string]bool),
	}
}

// decode parses data and walks it into cfg, recording every unknown key and
// wrong type. It returns an error only for a syntax error, which leaves
// nothing to walk.
func (l *configLoader) decode(data []byte, cfg *Config) error {
	var top map[string]toml.Primitive
	md, err := toml.Decode(string(data), &top)
	if err != nil {
		msg := err.Error()
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg = fmt.Sprintf("line %d: %s", pe.Position.Line, pe.Message)
		}
		return &ConfigError{Problems: []Problem{{Message: msg}}}
	}
	l.md = md
	for i, k := range md.Keys() {
		s := k.String()
		if _, ok := l.firstPos[s]; !ok {
			l.firstPos[s] = i
		}
		l.count[s]++
	}
	l.table(top, reflect.ValueOf(cfg).Elem(), "", nil)

	// The walk above finds every unknown key itself (with array indices,
	// which Undecoded cannot give). Undecoded is the safety net: whatever the
	// decoder never handed to the walk is unknown too, unless it sits under a
	// key already reported.
	for _, k := range md.Undecoded() {
		if !l.underReported(k) {
			key := k.String()
			l.fail(key, "unknown key")
			l.reported[key] = true
		}
	}
	return nil
}

// underReported reports whether k or one of its parents was already reported.
func (l *configLoader) underReported(k toml.Key) bool {
	for i := len(k); i > 0; i-- {
		if l.reported[k[:i].String()] {
			return true
		}
	}
	return false
}

// enter and exit record the file order of the keys visited, for sorting
// problems.
func (l *configLoader) enter(key string) { l.start[key] = l.seq; l.seq++ }
func (l *configLoader) exit(key string)  { l.end[key] = l.seq }

// sortedKeys returns the keys of a table in the order they appear in the file.
func (l *configLoader) sortedKeys(m map[string]toml.Primitive, tk toml.Key) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	pos := func(k string) int {
		if p, ok := l.firstPos[configAppendKey(tk, k).String()]; ok {
			return p
		}
		return math.MaxInt
	}
	sort.Slice(keys, func(i, j int) bool {
		pi, pj := pos(keys[i]), pos(keys[j])
		if pi != pj {
			return pi < pj
		}
		return keys[i] < keys[j]
	})
	return keys
}

// table decodes the TOML table m into the struct rv. key is our name of the
// table ("" at the top, "alert[0]" for an array entry), tk its TOML key.
func (l *configLoader) table(m map[string]toml.Primitive, rv reflect.Value, key string, tk toml.Key) {
	rt := rv.Type()
	fields := make(map[string]int, rt.NumField())
	names := make([]string, 0, rt.NumField())
	for i := range rt.NumField() {
		name := rt.Field(i).Tag.Get("toml")
		fields[name] = i
		names = append(names, name)
	}
	for _, k := range l.sortedKeys(m, tk) {
		fkey, ftk := configJoinKey(key, k), configAppendKey(tk, k)
		l.enter(fkey)
		if i, ok := fields[k]; ok {
			l.value(m[k], rv.Field(i), fkey, ftk)
		} else {
			l.unknown(fkey, ftk, k, names)
		}
		l.exit(fkey)
	}
}

// unknown reports an unknown key, suggesting the closest known one.
func (l *configLoader) unknown(key string, tk toml.Key, k string, names []string) {
	l.reported[tk.String()] = true
	// Suggest a key one edit away (two for longer keys); an edit is an
	// insertion, deletion, substitution or swap of adjacent letters.
	best, bestDist := "", 2
	if len(k) > 4 {
		bestDist = 3
	}
	for _, n := range names {
		d := configEditDistance(strings.ToLower(k), n)
		if d < bestDist {
			best, bestDist = n, d
		}
	}
	if best != "" {
		l.fail(key, fmt.Sprintf("unknown key (did you mean %q?)", best))
		return
	}
	l.fail(key, "unknown key")
}

// configIsText reports whether values of t are decoded from a TOML string
// through encoding.TextUnmarshaler (Secret, Duration).
func configIsText(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// value decodes p into rv, which keeps its default when p has the wrong type.
// It reports whether p decoded cleanly; elements of arrays and maps are
// decoded one by one so that each bad one is named.
func (l *configLoader) value(p toml.Primitive, rv reflect.Value, key string, tk toml.Key) bool {
	t := rv.Type()
	switch {
	case configIsText(t):
		var s string
		if err := l.md.PrimitiveDecode(p, &s); err != nil {
			return l.mistyped(p, key, tk, t, err)
		}
		nv := reflect.New(t)
		if err := l.md.PrimitiveDecode(p, nv.Interface()); err != nil {
			msg := strings.TrimPrefix(err.Error(), "toml: ")
			var pe toml.ParseError
			if errors.As(err, &pe) {
				msg = pe.Message
			}
			l.fail(key, msg+l.lineSuffix(err, tk))
			return false
		}
		rv.Set(nv.Elem())

	case t.Kind() == reflect.Struct:
		m, ok := l.tableOf(p, key, tk, t)
		if !ok {
			return false
		}
		l.table(m, rv, key, tk)

	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && !configIsText(t.Elem()):
		var arr []map[string]toml.Primitive
		if err := l.md.PrimitiveDecode(p, &arr); err != nil {
			return l.mistyped(p, key, tk, t, err)
		}
		s := reflect.MakeSlice(t, len(arr), len(arr))
		for i, m := range arr {
			ekey := fmt.Sprintf("%s[%d]", key, i)
			l.enter(ekey)
			l.table(m, s.Index(i), ekey, tk)
			l.exit(ekey)
		}
		rv.Set(s)

	case t.Kind() == reflect.Slice:
		var arr []toml.Primitive
		if err := l.md.PrimitiveDecode(p, &arr); err != nil {
			return l.mistyped(p, key, tk, t, err)
		}
		s := reflect.MakeSlice(t, len(arr), len(arr))
		ok := true
		for i := range arr {
			ekey := fmt.Sprintf("%s[%d]", key, i)
			l.enter(ekey)
			ok = l.value(arr[i], s.Index(i), ekey, tk) && ok
			l.exit(ekey)
		}
		rv.Set(s) // bad elements stay zero and are marked bad
		return ok

	case t.Kind() == reflect.Map:
		m, ok := l.tableOf(p, key, tk, t)
		if !ok {
			return false
		}
		nm := reflect.MakeMapWithSize(t, len(m))
		for _, k := range l.sortedKeys(m, tk) {
			ekey, etk := configJoinKey(key, k), configAppendKey(tk, k)
			l.enter(ekey)
			ev := reflect.New(t.Elem()).Elem()
			if l.value(m[k], ev, ekey, etk) {
				nm.SetMapIndex(reflect.ValueOf(k), ev)
			} else {
				ok = false
			}
			l.exit(ekey)
		}
		rv.Set(nm)
		return ok

	default:
		nv := reflect.New(t)
		if err := l.md.PrimitiveDecode(p, nv.Interface()); err != nil {
			return l.mistyped(p, key, tk, t, err)
		}
		rv.Set(nv.Elem())
	}
	return true
}

// tableOf decodes p as a TOML table, reporting any other type. (The toml
// package decodes a non-table into a map as an empty map, without error.)
func (l *configLoader) tableOf(p toml.Primitive, key string, tk toml.Key, t reflect.Type) (map[string]toml.Primitive, bool) {
	var raw any
	_ = l.md.PrimitiveDecode(p, &raw)
	var m map[string]toml.Primitive
	var err error
	if _, isTable := raw.(map[string]any); !isTable {
		// Decoding a non-table into a struct fails with an error that
		// carries the line.
		var probe struct{}
		err = l.md.PrimitiveDecode(p, &probe)
		if err == nil {
			err = errors.New("not a table")
		}
	} else {
		err = l.md.PrimitiveDecode(p, &m)
	}
	if err != nil {
		return nil, l.mistyped(p, key, tk, t, err)
	}
	return m, true
}

// mistyped reports a value of the wrong TOML type and returns false.
func (l *configLoader) mistyped(p toml.Primitive, key string, tk toml.Key, t reflect.Type, err error) bool {
	var raw any
	_ = l.md.PrimitiveDecode(p, &raw)
	l.reported[tk.String()] = true
	l.fail(key, fmt.Sprintf("must be %s, not %s%s", configWantType(t), configTOMLType(raw), l.lineSuffix(err, tk)))
	return false
}

// lineSuffix returns " (line N)" for a decoding error, or "" when the line is
// unknown or ambiguous (a key repeated in several [[alert]] entries, where
// the toml package only remembers the last one).
func (l *configLoader) lineSuffix(err error, tk toml.Key) string {
	if l.count[tk.String()] > 1 {
		return ""
	}
	line := 0
	var pe toml.ParseError
	if errors.As(err, &pe) {
		line = pe.Position.Line
	} else if rest, ok := strings.CutPrefix(err.Error(), "toml: line "); ok {
		n, _, _ := strings.Cut(rest, " ")
		line, _ = strconv.Atoi(n)
	}
	if line <= 0 {
		return ""
	}
	return fmt.Sprintf(" (line %d)", line)
}

// configWantType describes the TOML type a Go type is decoded from.
func configWantType(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[Duration]():
		return `a duration string such as "30m"`
	case configIsText(t), t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "a boolean"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return "an integer"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && !configIsText(t.Elem()):
		return "an array of tables"
	case t.Kind() == reflect.Slice:
		return "an array"
	default:
		return "a table"
	}
}

// configTOMLType describes a decoded TOML value's type.
func configTOMLType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	default:
		return "a date/time"
	}
}

// fail records a problem and marks key bad, so validation does not report
// the default or zero value left in its place.
func (l *configLoader) fail(key, msg string) {
	l.problems = append(l.problems, Problem{Key: key, Message: msg})
	l.bad[key] = true
}

// add records a validation problem, unless key or a parent of it already
// failed to decode or resolve.
func (l *configLoader) add(key, format string, args ...any) {
	for k := key; k != ""; k = configParent(k) {
		if l.bad[k] {
			return
		}
	}
	l.problems = append(l.problems, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

// defined reports whether key was written in the file.
func (l *configLoader) defined(key string) bool {
	_, ok := l.start[key]
	return ok
}

// sortProblems puts problems in file order. A problem about a key the file
// leaves out goes after its nearest table that is in the file, or at the end;
// the sort is stable, so validation order (which follows Config) breaks ties.
func (l *configLoader) sortProblems() {
	rank := func(key string) (int, int) {
		if key == "" {
			return -1, 0
		}
		if s, ok := l.start[key]; ok {
			return s, 0
		}
		for k := configParent(key); k != ""; k = configParent(k) {
			if e, ok := l.end[k]; ok {
				return e, -1
			}
		}
		return math.MaxInt, 0
	}
	sort.SliceStable(l.problems, func(i, j int) bool {
		a1, a2 := rank(l.problems[i].Key)
		b1, b2 := rank(l.problems[j].Key)
		if a1 != b1 {
			return a1 < b1
		}
		return a2 < b2
	})
}

// resolveSecrets resolves every secret the configuration uses.
func (l *configLoader) resolveSecrets(c *Config) {
	resolve := func(key string, s *Secret) {
		if l.bad[key] {
			return
		}
		if err := s.Resolve(); err != nil {
			l.fail(key, err.Error())
		}
	}
	resolve("nylas.api_key", &c.Nylas.APIKey)
	for i := range c.Nylas.WebhookSecrets {
		resolve(fmt.Sprintf("nylas.webhook_secrets[%d]", i), &c.Nylas.WebhookSecrets[i])
	}
	if c.CRM.Enabled {
		resolve("crm.api_key", &c.CRM.APIKey)
	}
	if c.ATS.Enabled {
		resolve("ats.api_key", &c.ATS.APIKey)
	}
	if c.Archive.S3Used() {
		resolve("archive.s3.access_key", &c.Archive.S3.AccessKey)
		resolve("archive.s3.secret_key", &c.Archive.S3.SecretKey)
	}
	for i := range c.Alerts {
		a := &c.Alerts[i]
		switch a.Type {
		case "slack", "webhook":
			resolve(fmt.Sprintf("alert[%d].url", i), &a.URL)
		case "email":
			resolve(fmt.Sprintf("alert[%d].password", i), &a.Password)
		}
	}
}

// validate checks every value with a domain, in the order of Config.
func (l *configLoader) validate(c *Config) {
	if c.DataDir == "" {
		l.add("data_dir", "must not be empty")
	}
	for i, d := range c.InternalDomains {
		key := fmt.Sprintf("internal_domains[%d]", i)
		if strings.HasPrefix(d, "@") {
			l.add(key, "must be a bare domain: write %q, not %q", strings.TrimPrefix(d, "@"), d)
		} else if msg := configHostProblem(d, false); msg != "" {
			l.add(key, "%s", msg)
		}
	}

	l.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	l.oneOf("log.format", c.Log.Format, "text", "json")

	l.validateServer(&c.Server)
	l.validateTLS(&c.TLS)
	l.validateNylas(&c.Nylas)
	l.validateArchive(&c.Archive)

	for _, j := range []struct{ key, spec string }{
		{"jobs.refresh_media", c.Jobs.RefreshMedia},
		{"jobs.archive_sweep", c.Jobs.ArchiveSweep},
		{"jobs.reconcile", c.Jobs.Reconcile},
		{"jobs.webhook_watchdog", c.Jobs.WebhookWatchdog},
		{"jobs.backup", c.Jobs.Backup},
		{"jobs.retention", c.Jobs.Retention},
	} {
		if j.spec == "" {
			continue // disabled
		}
		if err := jobs.ParseSpec(j.spec); err != nil {
			l.add(j.key, "invalid cron spec %q: %v (use \"\" to disable the job)", j.spec, err)
		}
	}

	l.validateTasks(&c.Tasks)
	if c.Store.KeepDays != 0 && c.Store.KeepDays < 7 {
		l.add("store.keep_days", "must be 0 (keep forever) or at least 7, so dedupe keys outlive Nylas' retries, not %d", c.Store.KeepDays)
	}
	if c.Backup.Keep < 1 || c.Backup.Keep > 1000 {
		l.add("backup.keep", "must be between 1 and 1000, not %d", c.Backup.Keep)
	}
	l.validateIntegration("crm", c.CRM.Enabled, c.CRM.BaseURL, c.CRM.APIKey,
		"contacts_search_path", c.CRM.ContactsSearchPath, "meetings_path", c.CRM.MeetingsPath)
	l.validateIntegration("ats", c.ATS.Enabled, c.ATS.BaseURL, c.ATS.APIKey,
		"interviews_path", c.ATS.InterviewsPath, "recordings_path", c.ATS.RecordingsPath)
	for i := range c.Alerts {
		l.validateAlert(fmt.Sprintf("alert[%d]", i), &c.Alerts[i])
	}
	l.validateAdmin(&c.Admin)
}

func (l *configLoader) validateServer(s *ServerConfig) {
	if s.Domain != "" {
		if msg := configHostProblem(s.Domain, false); msg != "" {
			l.add("server.domain", "%s", msg)
		}
	}
	if host, port, err := net.SplitHostPort(s.Listen); err != nil {
		l.add("server.listen", "must be host:port such as \"127.0.0.1:8080\", not %q", s.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		l.add("server.listen", "port %q must be a number from 0 to 65535", port)
	} else if strings.ContainsFunc(host, unicode.IsSpace) {
		l.add("server.listen", "host %q must not contain spaces", host)
	}
	l.validateWebhookPath(s.WebhookPath)
	if s.PublicURL != "" {
		if msg := configHTTPURLProblem(s.PublicURL, false); msg != "" {
			l.add("server.public_url", "%s, not %q", msg, s.PublicURL)
		}
	}
	if s.MaxBodyBytes < 1024 || s.MaxBodyBytes > 64<<20 {
		l.add("server.max_body_bytes", "must be between 1024 and %d (64 MiB), not %d", 64<<20, s.MaxBodyBytes)
	}
	if s.MetricsListen != "" {
		if _, port, err := net.SplitHostPort(s.MetricsListen); err != nil {
			l.add("server.metrics_listen", "must be empty or host:port such as \"127.0.0.1:9090\", not %q", s.MetricsListen)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			l.add("server.metrics_listen", "port %q must be a number from 0 to 65535", port)
		}
	}
}

func (l *configLoader) validateWebhookPath(p string) {
	const key = "server.webhook_path"
	switch {
	case !strings.HasPrefix(p, "/"):
		l.add(key, "must start with \"/\", not %q", p)
	case strings.ContainsAny(p, "{}?#") || strings.ContainsFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		l.add(key, "must not contain spaces, control characters, \"{\", \"}\", \"?\" or \"#\": %q", p)
	case p == "/" || p == "/healthz" || p == "/readyz" || p == "/metrics" || p == "/files" || p == "/admin" ||
		strings.HasPrefix(p, "/files/") || strings.HasPrefix(p, "/admin/"):
		l.add(key, "%q is reserved by notekeeper (/, /healthz, /readyz, /metrics, /files/, /admin/); use e.g. \"/webhooks/nylas\"", p)
	case path.Clean(p) != p:
		l.add(key, "must be a clean path such as %q, not %q", path.Clean(p), p)
	}
}

func (l *configLoader) validateTLS(t *TLSConfig) {
	if t.Email != "" && !configIsEmail(t.Email) {
		l.add("tls.email", "must be an e-mail address such as \"ops@example.com\", not %q", t.Email)
	}
	switch t.CA {
	case "letsencrypt", "letsencrypt-staging":
	default:
		u, err := url.Parse(t.CA)
		if err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && configIsLoopback(u.Hostname())) {
			l.add("tls.ca", "must be \"letsencrypt\", \"letsencrypt-staging\" or the https:// URL of an ACME directory (http:// only on localhost), not %q", t.CA)
		}
	}
	if t.CARoot != "" {
		if msg := configPEMCertProblem(t.CARoot); msg != "" {
			l.add("tls.ca_root", "%s", msg)
		}
	}
	httpOK := l.port("tls.http_port", t.HTTPPort)
	httpsOK := l.port("tls.https_port", t.HTTPSPort)
	if httpOK && httpsOK && t.HTTPPort == t.HTTPSPort {
		l.add("tls.https_port", "must differ from tls.http_port (both are %d)", t.HTTPPort)
	}
}

// port checks a TCP port number and reports whether it is valid.
func (l *configLoader) port(key string, p int) bool {
	if p < 1 || p > 65535 {
		l.add(key, "must be a port from 1 to 65535, not %d", p)
		return false
	}
	return true
}

func (l *configLoader) validateNylas(n *NylasConfig) {
	if msg := configHTTPURLProblem(n.APIBase, false); msg != "" {
		l.add("nylas.api_base", "%s, not %q", msg, n.APIBase)
	}
	l.requireSecret("nylas.api_key", n.APIKey)
	if len(n.WebhookSecrets) == 0 {
		l.add("nylas.webhook_secrets", "at least one secret is required")
	}
	for i, s := range n.WebhookSecrets {
		l.requireSecret(fmt.Sprintf("nylas.webhook_secrets[%d]", i), s)
	}
	for i, g := range n.Grants {
		key := fmt.Sprintf("nylas.grants[%d]", i)
		if g == "" {
			l.add(key, "must not be empty")
		} else if strings.ContainsFunc(g, func(r rune) bool { return r == '/' || unicode.IsSpace(r) || unicode.IsControl(r) }) {
			l.add(key, "must be a grant ID, without \"/\" or spaces, not %q", g)
		}
	}
	for i, h := range n.MediaHosts {
		if msg := configHostProblem(h, true); msg != "" {
			l.add(fmt.Sprintf("nylas.media_hosts[%d]", i), "%s", msg)
		}
	}
}

// requireSecret reports a secret whose resolved value is empty.
func (l *configLoader) requireSecret(key string, s Secret) {
	if s.Value() != "" || l.unresolved {
		return
	}
	switch {
	case s.isEnv():
		l.add(key, "environment variable %s is empty", strings.TrimPrefix(s.ref, "env:"))
	case s.isFile():
		l.add(key, "the first line of %s is empty", s.ref)
	default:
		l.add(key, "must not be empty")
	}
}

func (l *configLoader) validateArchive(a *ArchiveConfig) {
	if len(a.Kinds) == 0 {
		l.add("archive.kinds", "at least one kind is required (%s)", strings.Join(configArchiveKinds(), ", "))
	}
	l.kinds("archive.kinds", a.Kinds, configArchiveKinds())
	if a.MaxFileBytes <= 0 {
		l.add("archive.max_file_bytes", "must be greater than 0, not %d", a.MaxFileBytes)
	}
	if a.MinFreeBytes < 0 {
		l.add("archive.min_free_bytes", "must not be negative, not %d", a.MinFreeBytes)
	}
	if a.Concurrency < 1 || a.Concurrency > 64 {
		l.add("archive.concurrency", "must be between 1 and 64, not %d", a.Concurrency)
	}
	if a.AtRisk.Duration <= 0 || a.AtRisk.Duration >= 336*time.Hour {
		l.add("archive.at_risk", "must be greater than 0 and less than 336h (Nylas deletes media after 14 days), not %s", a.AtRisk)
	}
	if a.KeepDays < 0 {
		l.add("archive.keep_days", "must not be negative (0 keeps files forever), not %d", a.KeepDays)
	}
	l.oneOf("archive.target", a.Target, "local", "s3")
	if a.LinkTTL.Duration < time.Minute {
		l.add("archive.link_ttl", "must be at least 1m, not %s", a.LinkTTL)
	}
	if a.S3Used() {
		l.validateS3(&a.S3)
	}
}

var (
	configS3Bucket       = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	configS3Region       = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
	configS3StorageClass = regexp.MustCompile(`^[A-Z][A-Z_]{0,63}$`)
	configS3Prefix       = regexp.MustCompile(`^[A-Za-z0-9!_.*'()/-]{0,256}$`)
)

// validateS3 checks [archive.s3]; every key but prefix, path_style,
// storage_class and sse is required.
func (l *configLoader) validateS3(s *S3Config) {
	const k = "archive.s3."
	req := ` (required when archive.target = "s3" or archive.s3.bucket is set)`
	if u, err := url.Parse(s.Endpoint); s.Endpoint == "" {
		l.add(k+"endpoint", "must not be empty%s, e.g. \"https://s3.eu-west-1.amazonaws.com\"", req)
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.add(k+"endpoint", "must be an http:// or https:// URL such as \"https://s3.eu-west-1.amazonaws.com\", not %q", s.Endpoint)
	} else if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		l.add(k+"endpoint", "must be scheme://host[:port] only, without a path, query or user, not %q (the bucket goes in archive.s3.bucket)", s.Endpoint)
	}
	if !configS3Region.MatchString(s.Region) {
		l.add(k+"region", "must be a region name such as \"us-east-1\" (\"auto\" for Cloudflare R2), not %q", s.Region)
	}
	if s.Bucket == "" {
		l.add(k+"bucket", "must not be empty%s", req)
	} else if !configS3Bucket.MatchString(s.Bucket) || strings.Contains(s.Bucket, "..") {
		l.add(k+"bucket", "must be a bucket name (3 to 63 lowercase letters, digits, '.' and '-'), not %q", s.Bucket)
	}
	if p := s.Prefix; p != "" && (!configS3Prefix.MatchString(p) || !strings.HasSuffix(p, "/") || strings.HasPrefix(p, "/") ||
		strings.Contains(p, "//") || slices.Contains(strings.Split(p, "/"), ".") || slices.Contains(strings.Split(p, "/"), "..")) {
		l.add(k+"prefix", "must be empty or folder names ending in \"/\" such as \"notekeeper/\" (no leading \"/\", no \".\" or \"..\"), not %q", p)
	}
	l.requireSecret(k+"access_key", s.AccessKey)
	l.requireSecret(k+"secret_key", s.SecretKey)
	if s.StorageClass != "" && !configS3StorageClass.MatchString(s.StorageClass) {
		l.add(k+"storage_class", "must be empty (the bucket's default) or a storage class such as \"STANDARD_IA\", not %q", s.StorageClass)
	}
	if s.SSE != "" && s.SSE != "AES256" && s.SSE != "aws:kms" && !(strings.HasPrefix(s.SSE, "aws:kms:") && len(s.SSE) > len("aws:kms:")) {
		l.add(k+"sse", "must be \"\", \"AES256\", \"aws:kms\" or \"aws:kms:KEY_ID\", not %q", s.SSE)
	}
}

// kinds checks a list against the allowed values, rejecting duplicates.
func (l *configLoader) kinds(key string, list, allowed []string) {
	seen := make(map[string]bool, len(list))
	for i, k := range list {
		ekey := fmt.Sprintf("%s[%d]", key, i)
		switch {
		case !slices.Contains(allowed, k):
			l.add(ekey, "unknown kind %q (one of %s)", k, strings.Join(allowed, ", "))
		case seen[k]:
			l.add(ekey, "%q is listed twice", k)
		}
		seen[k] = true
	}
}

func (l *configLoader) validateTasks(t *TasksConfig) {
	if t.Workers < 1 || t.Workers > 64 {
		l.add("tasks.workers", "must be between 1 and 64, not %d", t.Workers)
	}
	if t.MaxAttempts < 1 || t.MaxAttempts > 1000 {
		l.add("tasks.max_attempts", "must be between 1 and 1000, not %d", t.MaxAttempts)
	}
	if t.Lease.Duration < time.Second {
		l.add("tasks.lease", "must be at least 1s, not %s", t.Lease)
	}
	if t.BackoffBase.Duration <= 0 {
		l.add("tasks.backoff_base", "must be greater than 0, not %s", t.BackoffBase)
	} else if t.BackoffMax.Duration < t.BackoffBase.Duration {
		l.add("tasks.backoff_max", "must be at least tasks.backoff_base (%s), not %s", t.BackoffBase, t.BackoffMax)
	}
}

// validateIntegration checks [crm] or [ats]. Values that are set are checked
// either way; base_url and api_key are required only when enabled.
func (l *configLoader) validateIntegration(section string, enabled bool, baseURL string, apiKey Secret, pathsKV ...string) {
	switch {
	case baseURL == "" && enabled:
		l.add(section+".base_url", "required when %s.enabled is true", section)
	case baseURL != "":
		if msg := configHTTPURLProblem(baseURL, false); msg != "" {
			l.add(section+".base_url", "%s, not %q", msg, baseURL)
		}
	}
	if enabled {
		if apiKey.Ref() == "" {
			l.add(section+".api_key", "required when %s.enabled is true", section)
		} else {
			l.requireSecret(section+".api_key", apiKey)
		}
	}
	for i := 0; i+1 < len(pathsKV); i += 2 {
		key, p := section+"."+pathsKV[i], pathsKV[i+1]
		switch {
		case !strings.HasPrefix(p, "/"):
			l.add(key, "must start with \"/\", not %q", p)
		case strings.ContainsAny(p, "?#") || strings.ContainsFunc(p, unicode.IsSpace):
			l.add(key, "must be a plain path without spaces, \"?\" or \"#\", not %q", p)
		}
	}
}

func (l *configLoader) validateAlert(key string, a *AlertConfig) {
	var allowed []string
	switch a.Type {
	case "slack", "webhook":
		allowed = []string{"type", "url", "kinds"}
		if a.URL.Ref() == "" {
			l.add(key+".url", "required for %s alerts", a.Type)
		} else if a.URL.Value() == "" {
			l.requireSecret(key+".url", a.URL)
		} else if msg := configHTTPURLProblem(a.URL.Value(), true); msg != "" {
			// The URL is a secret (a Slack URL carries its token): never quote it.
			l.add(key+".url", "%s", msg)
		}
	case "email":
		allowed = []string{"type", "kinds", "smtp_addr", "username", "password", "from", "to"}
		if a.SMTPAddr == "" {
			l.add(key+".smtp_addr", "required for email alerts (host:port, e.g. \"smtp.example.com:587\")")
		} else if host, port, err := net.SplitHostPort(a.SMTPAddr); err != nil || host == "" {
			l.add(key+".smtp_addr", "must be host:port such as \"smtp.example.com:587\", not %q", a.SMTPAddr)
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			l.add(key+".smtp_addr", "port %q must be a number from 1 to 65535", port)
		}
		if a.Password.Ref() != "" && a.Username == "" {
			l.add(key+".username", "required when %s.password is set", key)
		}
		if a.Username != "" {
			if a.Password.Ref() == "" {
				l.add(key+".password", "required when %s.username is set", key)
			} else {
				l.requireSecret(key+".password", a.Password)
			}
		}
		switch {
		case a.From == "":
			l.add(key+".from", "required for email alerts")
		case !configIsEmail(a.From):
			l.add(key+".from", "must be an e-mail address such as \"notekeeper@example.com\", not %q", a.From)
		}
		if len(a.To) == 0 {
			l.add(key+".to", "required for email alerts: at least one address")
		}
		for i, to := range a.To {
			if !configIsEmail(to) {
				l.add(fmt.Sprintf("%s.to[%d]", key, i), "must be an e-mail address such as \"ops@example.com\", not %q", to)
			}
		}
	case "":
		l.add(key+".type", "required: \"slack\", \"webhook\" or \"email\"")
	default:
		l.add(key+".type", "must be \"slack\", \"webhook\" or \"email\", not %q", a.Type)
	}
	if allowed != nil {
		rt := reflect.TypeFor[AlertConfig]()
		for i := range rt.NumField() {
			name := rt.Field(i).Tag.Get("toml")
			if !slices.Contains(allowed, name) && l.defined(key+"."+name) {
				l.add(key+"."+name, "not used by %s alerts (it applies to %s)", a.Type, configAlertTypesUsing(name))
			}
		}
	}
	l.kinds(key+".kinds", a.Kinds, configAlertKinds())
}

// configAlertTypesUsing names the alert types that use an alert key.
func configAlertTypesUsing(name string) string {
	if name == "url" {
		return "slack and webhook alerts"
	}
	return "email alerts"
}

func (l *configLoader) validateAdmin(a *AdminConfig) {
	names := make([]string, 0, len(a.Users))
	for n := range a.Users {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		key := configJoinKey("admin.users", n)
		switch {
		case n == "":
			l.add(key, "user name must not be empty")
		case strings.ContainsRune(n, ':') || strings.ContainsFunc(n, unicode.IsControl):
			l.add(key, "user name must not contain \":\" or control characters")
		}
		if !configIsBcrypt(a.Users[n]) {
			l.add(key, "must be a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters; config.example.toml shows how to make one)")
		}
	}
}

// oneOf checks that v is one of allowed.
func (l *configLoader) oneOf(key, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		l.add(key, "must be one of %s, not %q", strings.Join(allowed, ", "), v)
	}
}

// configArchiveKinds returns the media kinds [archive] kinds accepts, in
// SPEC order.
func configArchiveKinds() []string {
	return []string{"recording", "transcript", "summary", "action_items", "thumbnail"}
}

// configAlertKinds returns the alert kinds of SPEC §7.
func configAlertKinds() []string {
	return []string{
		"notetaker.failed_entry", "notetaker.media_error", "archive.at_risk", "archive.failed",
		"grant.expired", "disk.low", "webhook.unhealthy", "delivery.failed", "tls.failed",
	}
}

// configJoinKey appends a TOML key piece to one of our keys, quoting it as
// TOML does when it is not a bare key.
func configJoinKey(key, piece string) string {
	q := toml.Key{piece}.String()
	if key == "" {
		return q
	}
	return key + "." + q
}

// configAppendKey returns a copy of tk with piece appended.
func configAppendKey(tk toml.Key, piece string) toml.Key {
	return append(slices.Clip(tk), piece)
}

// configParent returns the key a key belongs to: "alert[0]" for
// "alert[0].url", "alert" for "alert[0]", "" for a top-level key.
func configParent(key string) string {
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndexByte(key, '['); i > 0 {
			return key[:i]
		}
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

// configEditDistance is the optimal-string-alignment distance between a and
// b: the number of single-byte insertions, deletions, substitutions and
// swaps of adjacent bytes that turn a into b.
func configEditDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// configHostProblem describes why s is not a bare host name (or, with
// allowIP, an IP address), or returns "".
func configHostProblem(s string, allowIP bool) string {
	bare := "a bare host name such as \"example.com\""
	if allowIP {
		bare = "a bare host name such as \"storage.example.com\" or an IP address"
	}
	switch {
	case s == "":
		return "must not be empty"
	case strings.Contains(s, "://"):
		return fmt.Sprintf("must be %s, without a scheme, not %q", bare, s)
	case strings.ContainsAny(s, "/?#"):
		return fmt.Sprintf("must be %s, without a path, not %q", bare, s)
	}
	if ip := net.ParseIP(s); ip != nil {
		if allowIP {
			return ""
		}
		return fmt.Sprintf("must be a DNS name, not an IP address: %q", s)
	}
	if strings.Contains(s, ":") {
		return fmt.Sprintf("must be %s, without a port, not %q", bare, s)
	}
	if !configIsDNSName(s) {
		return fmt.Sprintf("must be %s, not %q", bare, s)
	}
	return ""
}

// configIsDNSName reports whether s is a syntactically valid DNS host name:
// dot-separated labels of letters, digits and inner hyphens, with a
// non-numeric last label and no trailing dot.
func configIsDNSName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, label := range labels {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	_, err := strconv.Atoi(labels[len(labels)-1])
	return err != nil
}

// configHTTPURLProblem describes why s is not an absolute http(s) URL (with
// a query and fragment only when allowQuery), or returns "". The result never
// quotes s, which may be a secret.
func configHTTPURLProblem(s string, allowQuery bool) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return "must be an absolute http:// or https:// URL"
	}
	if !allowQuery && (u.RawQuery != "" || u.ForceQuery || u.Fragment != "") {
		return "must not have a query or fragment"
	}
	return ""
}

// configIsLoopback reports whether host is localhost or a loopback address.
func configIsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// configIsEmail reports whether s is a bare e-mail address (no display name).
func configIsEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// configIsEnvName reports whether name is a conventional environment
// variable name: letters, digits and '_', not starting with a digit.
func configIsEnvName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// configIsBcrypt reports whether h looks like a bcrypt hash: "$2a$", "$2b$"
// or "$2y$", a two-digit cost from 04 to 31, "$", and 53 characters of
// bcrypt's base64 alphabet.
func configIsBcrypt(h string) bool {
	if len(h) != 60 || !(strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$")) || h[6] != '$' {
		return false
	}
	cost, err := strconv.Atoi(h[4:6])
	if err != nil || cost < 4 || cost > 31 {
		return false
	}
	for _, r := range h[7:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '/') {
			return false
		}
	}
	return true
}

// configPEMCertProblem describes why the file at p is not a PEM file holding
// at least one parseable CERTIFICATE, or returns "".
func configPEMCertProblem(p string) string {
	data, err := os.ReadFile(p)
	if err != nil {
		return fmt.Sprintf("read %s: %v", p, configUnwrapPath(err))
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return fmt.Sprintf("%s holds no PEM CERTIFICATE block", p)
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Sprintf("%s: parse certificate: %v", p, err)
		}
		return ""
	}
}
