package config

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// validate checks every value with a domain, in the order of Config.
func (l *loader) validate(c *Config) {
	if c.DataDir == "" {
		l.add("data_dir", "must not be empty")
	}
	for i, d := range c.InternalDomains {
		key := fmt.Sprintf("internal_domains[%d]", i)
		if strings.HasPrefix(d, "@") {
			l.add(key, "must be a bare domain: write %q, not %q", strings.TrimPrefix(d, "@"), d)
		} else if msg := hostProblem(d, false); msg != "" {
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
		if _, err := cronParser.Parse(j.spec); err != nil {
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
	l.validateCRM(&c.CRM)
	l.validateATS(&c.ATS)
	l.validateFollowup(&c.Followup)
	for i := range c.Alerts {
		l.validateAlert(fmt.Sprintf("alert[%d]", i), &c.Alerts[i])
	}
	l.validateAdmin(&c.Admin)
	l.validateNylasSide(c)
}

func (l *loader) validateServer(s *Server) {
	if s.Domain != "" {
		if msg := hostProblem(s.Domain, false); msg != "" {
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
		if msg := httpURLProblem(s.PublicURL, false); msg != "" {
			l.add("server.public_url", "%s, not %q", msg, shownURL(s.PublicURL))
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

func (l *loader) validateWebhookPath(p string) {
	const key = "server.webhook_path"
	switch {
	case !strings.HasPrefix(p, "/"):
		l.add(key, "must start with \"/\", not %q", p)
	case strings.ContainsAny(p, "{}?#") || strings.ContainsFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		l.add(key, "must not contain spaces, control characters, \"{\", \"}\", \"?\" or \"#\": %q", p)
	case isReserved(p):
		l.add(key, "%q is reserved by notekeeper (%s); use e.g. \"/webhooks/nylas\"", p, strings.Join(ReservedPaths(), ", "))
	case path.Clean(p) != p:
		l.add(key, "must be a clean path such as %q, not %q", path.Clean(p), p)
	}
}

// isReserved reports whether p is one of ReservedPaths or under one ending
// in "/".
func isReserved(p string) bool {
	for _, r := range ReservedPaths() {
		if p == r || r != "/" && strings.HasSuffix(r, "/") && (p == strings.TrimSuffix(r, "/") || strings.HasPrefix(p, r)) {
			return true
		}
	}
	return false
}

func (l *loader) validateTLS(t *TLS) {
	if t.Email != "" && !isEmail(t.Email) {
		l.add("tls.email", "must be an e-mail address such as \"ops@example.com\", not %q", t.Email)
	}
	switch t.CA {
	case "letsencrypt", "letsencrypt-staging":
	default:
		u, err := url.Parse(t.CA)
		if err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())) {
			l.add("tls.ca", "must be \"letsencrypt\", \"letsencrypt-staging\" or the https:// URL of an ACME directory (http:// only on localhost), not %q", t.CA)
		}
	}
	if t.CARoot != "" {
		if msg := pemCertProblem(t.CARoot); msg != "" {
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
func (l *loader) port(key string, p int) bool {
	if p < 1 || p > 65535 {
		l.add(key, "must be a port from 1 to 65535, not %d", p)
		return false
	}
	return true
}

func (l *loader) validateNylas(n *Nylas) {
	if msg := httpURLProblem(n.APIBase, false); msg != "" {
		l.add("nylas.api_base", "%s, not %q", msg, shownURL(n.APIBase))
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
		if msg := hostProblem(h, true); msg != "" {
			l.add(fmt.Sprintf("nylas.media_hosts[%d]", i), "%s", msg)
		}
	}
}

func (l *loader) validateArchive(a *Archive) {
	if len(a.Kinds) == 0 {
		l.add("archive.kinds", "at least one kind is required (%s)", strings.Join(ArchiveKinds(), ", "))
	}
	l.kinds("archive.kinds", a.Kinds, ArchiveKinds())
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
	s3Bucket       = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	s3Region       = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
	s3StorageClass = regexp.MustCompile(`^[A-Z][A-Z_]{0,63}$`)
	s3Prefix       = regexp.MustCompile(`^[A-Za-z0-9!_.*'()/-]{0,256}$`)
)

// validateS3 checks [archive.s3]; every key but prefix, path_style,
// storage_class and sse is required.
func (l *loader) validateS3(s *S3) {
	const k = "archive.s3."
	req := ` (required when archive.target = "s3" or archive.s3.bucket is set)`
	if u, err := url.Parse(s.Endpoint); s.Endpoint == "" {
		l.add(k+"endpoint", "must not be empty%s, e.g. \"https://s3.eu-west-1.amazonaws.com\"", req)
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.add(k+"endpoint", "must be an http:// or https:// URL such as \"https://s3.eu-west-1.amazonaws.com\", not %q", s.Endpoint)
	} else if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		l.add(k+"endpoint", "must be scheme://host[:port] only, without a path, query or user, not %q (the bucket goes in archive.s3.bucket)", s.Endpoint)
	}
	if !s3Region.MatchString(s.Region) {
		l.add(k+"region", "must be a region name such as \"us-east-1\" (\"auto\" for Cloudflare R2), not %q", s.Region)
	}
	if s.Bucket == "" {
		l.add(k+"bucket", "must not be empty%s", req)
	} else if !s3Bucket.MatchString(s.Bucket) || strings.Contains(s.Bucket, "..") {
		l.add(k+"bucket", "must be a bucket name (3 to 63 lowercase letters, digits, '.' and '-'), not %q", s.Bucket)
	}
	if p := s.Prefix; p != "" && (!s3Prefix.MatchString(p) || !strings.HasSuffix(p, "/") || strings.HasPrefix(p, "/") ||
		strings.Contains(p, "//") || slices.Contains(strings.Split(p, "/"), ".") || slices.Contains(strings.Split(p, "/"), "..")) {
		l.add(k+"prefix", "must be empty or folder names ending in \"/\" such as \"notekeeper/\" (no leading \"/\", no \".\" or \"..\"), not %q", p)
	}
	l.requireSecret(k+"access_key", s.AccessKey)
	l.requireSecret(k+"secret_key", s.SecretKey)
	if s.StorageClass != "" && !s3StorageClass.MatchString(s.StorageClass) {
		l.add(k+"storage_class", "must be empty (the bucket's default) or a storage class such as \"STANDARD_IA\", not %q", s.StorageClass)
	}
	if s.SSE != "" && s.SSE != "AES256" && s.SSE != "aws:kms" && !(strings.HasPrefix(s.SSE, "aws:kms:") && len(s.SSE) > len("aws:kms:")) {
		l.add(k+"sse", "must be \"\", \"AES256\", \"aws:kms\" or \"aws:kms:KEY_ID\", not %q", s.SSE)
	}
}

// kinds checks a list against the allowed values, rejecting duplicates.
func (l *loader) kinds(key string, list, allowed []string) {
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

func (l *loader) validateTasks(t *Tasks) {
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

func (l *loader) validateAdmin(a *Admin) {
	names := make([]string, 0, len(a.Users))
	for n := range a.Users {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		key := joinKey("admin.users", n)
		switch {
		case n == "":
			l.add(key, "user name must not be empty")
		case strings.ContainsRune(n, ':') || strings.ContainsFunc(n, unicode.IsControl):
			l.add(key, "user name must not contain \":\" or control characters")
		}
		if !isBcrypt(a.Users[n]) {
			l.add(key, "must be a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters; config.example.toml shows how to make one)")
		}
	}
}

// oneOf checks that v is one of allowed.
func (l *loader) oneOf(key, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		l.add(key, "must be one of %s, not %q", strings.Join(allowed, ", "), v)
	}
}
