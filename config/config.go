// Package config is notekeeper's configuration: the Config type that
// mirrors the TOML file, its defaults, and Load/Parse, which turn a file into
// a Config or into an *Error listing every problem, each naming its key.
//
// The files, in the order a file is read:
//
//	config.go      the schema: Config and one type per table
//	nylasside.go   the schema of [[calendar]] and [[scheduler]], with their defaults
//	defaults.go    Default (what a key the file leaves out holds) and DefaultPath
//	load.go        Load, Parse, LoadUnresolved and the normalisation of values
//	decode.go      the reflective walk of the TOML against Config: unknown keys,
//	               wrong types, file order
//	keys.go        key names and the "did you mean" hints of unknown keys
//	secret.go      Secret (literal, env:NAME, file:/path) and its resolution
//	validate*.go   every value with a domain: ranges, enums, required keys
//	               (validate.go the core tables, validate_delivery.go [crm],
//	               [ats], [followup] and [[alert]], validate_nylasside.go the
//	               Nylas side)
//	syntax.go      the shared syntax checks (host names, URLs, e-mail, bcrypt)
//	facts.go       values owned elsewhere that config accepts (archive kinds,
//	               alert kinds, reserved HTTP paths, the cron syntax)
//	errors.go      Error and Problem
//	duration.go    Duration, a time.Duration written as "30m"
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
//  4. Every value with a domain is validated; a key that already failed to
//     decode or resolve is not validated again, so one mistake gives one
//     message.
//
// Problems are reported in file order, so the list reads top to bottom like
// the file itself.
//
// The package imports no other package of notekeeper: main reads a Config
// and hands each component the plain values it needs.
package config

// Config is the whole TOML configuration file. The toml tags are the keys
// config.example.toml and the README document, and must not change:
// operators' files and scripts depend on them.
//
// A Config returned by Parse is valid and normalised: internal_domains,
// media_hosts and server.domain are lower case; public_url, api_base, the
// CRM/ATS base_url and crm.salesforce.login_url carry no trailing "/"; every
// secret in use is resolved. A Config built by hand (Default plus edits, as
// in tests and the demo) carries no such guarantee.
type Config struct {
	DataDir         string      `toml:"data_dir"`
	InternalDomains []string    `toml:"internal_domains"`
	Log             Log         `toml:"log"`
	Server          Server      `toml:"server"`
	TLS             TLS         `toml:"tls"`
	Nylas           Nylas       `toml:"nylas"`
	Archive         Archive     `toml:"archive"`
	Jobs            Jobs        `toml:"jobs"`
	Tasks           Tasks       `toml:"tasks"`
	Store           Store       `toml:"store"`
	Backup          Backup      `toml:"backup"`
	CRM             CRM         `toml:"crm"`
	ATS             ATS         `toml:"ats"`
	Followup        Followup    `toml:"followup"`
	Alerts          []Alert     `toml:"alert"`
	Admin           Admin       `toml:"admin"`
	Calendars       []Calendar  `toml:"calendar"`  // the Nylas side: see nylasside.go
	Schedulers      []Scheduler `toml:"scheduler"` // the Nylas side: see nylasside.go
}

// Log is the [log] table.
type Log struct {
	Level  string `toml:"level"`  // debug | info | warn | error
	Format string `toml:"format"` // text | json
}

// Server is the [server] table.
type Server struct {
	Domain       string `toml:"domain"`         // public DNS name; "" = plain HTTP on Listen
	Listen       string `toml:"listen"`         // host:port, used when Domain is ""
	WebhookPath  string `toml:"webhook_path"`   // path Nylas posts to
	PublicURL    string `toml:"public_url"`     // base of links handed out; see Config.PublicURL
	MaxBodyBytes int64  `toml:"max_body_bytes"` // webhook body limit
	// MetricsListen, when set, serves /metrics (without authentication) on
	// its own plain-HTTP listener, e.g. "127.0.0.1:9090" for a local
	// Prometheus.
	MetricsListen string `toml:"metrics_listen"`
}

// TLS is the [tls] table, used when server.domain is set.
type TLS struct {
	Email     string `toml:"email"`      // ACME account e-mail
	CA        string `toml:"ca"`         // "letsencrypt" | "letsencrypt-staging" | ACME directory URL
	CARoot    string `toml:"ca_root"`    // PEM file of a private ACME CA's root
	HTTPPort  int    `toml:"http_port"`  // ACME HTTP-01 and redirect
	HTTPSPort int    `toml:"https_port"` // HTTPS listener
}

// Nylas is the [nylas] table.
type Nylas struct {
	APIBase        string   `toml:"api_base"`
	APIKey         Secret   `toml:"api_key"`
	WebhookSecrets []Secret `toml:"webhook_secrets"` // every one is accepted
	Grants         []string `toml:"grants"`          // grant IDs to reconcile
	MediaHosts     []string `toml:"media_hosts"`     // empty = any public https host
	AllowHTTPMedia bool     `toml:"allow_http_media"`
}

// Archive is the [archive] table.
type Archive struct {
	Kinds        []string `toml:"kinds"`
	MaxFileBytes int64    `toml:"max_file_bytes"`
	MinFreeBytes int64    `toml:"min_free_bytes"`
	Concurrency  int      `toml:"concurrency"`
	AtRisk       Duration `toml:"at_risk"`
	KeepDays     int      `toml:"keep_days"` // 0 = forever
	Target       string   `toml:"target"`    // "local" | "s3"
	LinkTTL      Duration `toml:"link_ttl"`
	S3           S3       `toml:"s3"`
}

// S3 is the [archive.s3] table: S3-compatible object storage, used
// when [archive] target = "s3", by `archive migrate -to s3`, and to serve
// links to files already moved to the bucket. It is validated (and its
// secrets resolved) when target = "s3" or bucket is set.
type S3 struct {
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
func (a Archive) S3Used() bool { return a.Target == "s3" || a.S3.Bucket != "" }

// Jobs is the [jobs] table: robfig/cron specs as accepted by
// the jobs package (five-field cron or a descriptor such as "@every 30m",
// "@daily"). An empty spec disables the job.
type Jobs struct {
	RefreshMedia    string `toml:"refresh_media"`
	ArchiveSweep    string `toml:"archive_sweep"`
	Reconcile       string `toml:"reconcile"`
	WebhookWatchdog string `toml:"webhook_watchdog"`
	Backup          string `toml:"backup"`
	Retention       string `toml:"retention"` // prune per [archive] keep_days and [store] keep_days
}

// Store is the [store] table.
type Store struct {
	// KeepDays prunes stored notification bodies (and their dedupe keys)
	// older than this many days; 0 keeps them forever. At least 7, so that a
	// dedupe key outlives every Nylas retry (the last comes within ~20 min).
	KeepDays int `toml:"keep_days"`
}

// Backup is the [backup] table.
type Backup struct {
	Keep int `toml:"keep"` // backups kept in {data_dir}/backups by the backup job, 1..1000
}

// Tasks is the [tasks] table: it tunes the durable task queue behind archiving, CRM/ATS delivery and alerts.
type Tasks struct {
	Workers     int      `toml:"workers"`      // tasks run at once, 1..64
	MaxAttempts int      `toml:"max_attempts"` // then the task is dead-lettered, 1..1000
	Lease       Duration `toml:"lease"`        // renewed while a task runs; a dead worker's task runs again after it, >= 1s
	BackoffBase Duration `toml:"backoff_base"` // first retry delay, doubled per attempt, > 0
	BackoffMax  Duration `toml:"backoff_max"`  // retry delay cap, >= BackoffBase
}

// CRM is the [crm] table: where meeting notes of meetings that belong to no
// booking go. Type picks the connector; BaseURL "" lets a vendor connector
// use the vendor's API (rest has no default: it is required there).
type CRM struct {
	Enabled bool   `toml:"enabled"`
	Type    string `toml:"type"` // "rest" | "hubspot" | "pipedrive" | "salesforce" | "close"
	BaseURL string `toml:"base_url"`
	// APIKey is the bearer token (rest), private-app token (hubspot), API
	// token (pipedrive) or API key (close); salesforce uses Salesforce.
	APIKey Secret `toml:"api_key"`
	// CreateContacts creates a contact for an external participant the CRM
	// does not know (vendor connectors).
	CreateContacts bool `toml:"create_contacts"`
	// TasksFromActionItems makes one CRM task per action item (vendor
	// connectors).
	TasksFromActionItems bool       `toml:"tasks_from_action_items"`
	ContactsSearchPath   string     `toml:"contacts_search_path"` // rest only
	MeetingsPath         string     `toml:"meetings_path"`        // rest only
	Salesforce           Salesforce `toml:"salesforce"`
}

// Salesforce is the [crm.salesforce] table, used when [crm] type =
// "salesforce": the OAuth 2.0 client-credentials flow of a connected app.
// Its secret is resolved only then.
type Salesforce struct {
	LoginURL     string `toml:"login_url"` // token at {login_url}/services/oauth2/token
	ClientID     string `toml:"client_id"`
	ClientSecret Secret `toml:"client_secret"`
	APIVersion   string `toml:"api_version"` // "vNN.N"
}

// ATS is the [ats] table: where interviews (bookings) and their recordings
// go. Type picks the connector; BaseURL "" lets a vendor connector use the
// vendor's API (rest has no default: it is required there).
type ATS struct {
	Enabled bool   `toml:"enabled"`
	Type    string `toml:"type"` // "rest" | "greenhouse" | "lever" | "ashby"
	BaseURL string `toml:"base_url"`
	// APIKey is the bearer token (rest) or API key (lever, ashby);
	// greenhouse uses Greenhouse.
	APIKey Secret `toml:"api_key"`
	// UserID is the ATS user that writes: the token's sub (greenhouse) or
	// perform_as (lever); required for those two.
	UserID         string     `toml:"user_id"`
	InterviewsPath string     `toml:"interviews_path"` // rest only
	RecordingsPath string     `toml:"recordings_path"` // rest only
	Greenhouse     Greenhouse `toml:"greenhouse"`
}

// Greenhouse is the [ats.greenhouse] table, used when [ats] type =
// "greenhouse": Harvest v3's OAuth 2.0 client credentials. Its secret is
// resolved only then.
type Greenhouse struct {
	TokenURL     string `toml:"token_url"`
	ClientID     string `toml:"client_id"`
	ClientSecret Secret `toml:"client_secret"`
}

// Followup is the [followup] table: after a meeting's archive completes, one
// e-mail with its summary and action items to its participants.
type Followup struct {
	Enabled bool   `toml:"enabled"`
	To      string `toml:"to"`      // "internal" (colleagues only) | "all" (every participant)
	Subject string `toml:"subject"` // {{title}} is the meeting's title
}

// Alert is one [[alert]] entry. Type selects which other keys apply:
// "slack" and "webhook" use URL; "email" uses SMTPAddr, Username, Password,
// From and To. Kinds, when not empty, limits the alert kinds sent.
type Alert struct {
	Type     string   `toml:"type"`      // "slack" | "webhook" | "email"
	URL      Secret   `toml:"url"`       // slack incoming-webhook URL or webhook URL
	Kinds    []string `toml:"kinds"`     // empty = every kind
	SMTPAddr string   `toml:"smtp_addr"` // email: host:port
	Username string   `toml:"username"`  // email: SMTP AUTH user, optional
	Password Secret   `toml:"password"`  // email: SMTP AUTH password, with Username
	From     string   `toml:"from"`      // email: sender address
	To       []string `toml:"to"`        // email: recipients, at least one
}

// Admin is the [admin] table.
type Admin struct {
	Users map[string]string `toml:"users"` // name -> bcrypt hash, for the web UI
}
