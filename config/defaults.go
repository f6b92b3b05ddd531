package config

import (
	"os"
	"time"
)

// DefaultPath returns the configuration file used when no -config flag
// is given: $NOTEKEEPER_CONFIG when set and non-empty, else
// /etc/notekeeper/config.toml.
func DefaultPath() string {
	if p := os.Getenv("NOTEKEEPER_CONFIG"); p != "" {
		return p
	}
	return "/etc/notekeeper/config.toml"
}

// Default returns the value of every key a file leaves out: the values
// config.example.toml shows. Its secrets are
// unresolved references (Value is ""); Parse resolves them. Each call
// returns a fresh Config that shares nothing with any other.
func Default() Config {
	return Config{
		DataDir:         "/var/lib/notekeeper",
		InternalDomains: []string{},
		Log:             Log{Level: "info", Format: "text"},
		Server: Server{
			Listen:       "127.0.0.1:8080",
			WebhookPath:  "/webhooks/nylas",
			MaxBodyBytes: 2097152,
		},
		TLS: TLS{
			CA:        "letsencrypt",
			HTTPPort:  80,
			HTTPSPort: 443,
		},
		Nylas: Nylas{
			APIBase:        "https://api.us.nylas.com",
			APIKey:         Secret{ref: "env:NYLAS_API_KEY"},
			WebhookSecrets: []Secret{{ref: "env:NYLAS_WEBHOOK_SECRET"}},
			Grants:         []string{},
			MediaHosts:     []string{},
		},
		Archive: Archive{
			Kinds:        ArchiveKinds(),
			MaxFileBytes: 10737418240,
			MinFreeBytes: 2147483648,
			Concurrency:  2,
			AtRisk:       Duration{72 * time.Hour},
			KeepDays:     0,
			Target:       "local",
			LinkTTL:      Duration{8760 * time.Hour},
			S3: S3{
				Region:    "us-east-1",
				Prefix:    "notekeeper/",
				AccessKey: Secret{ref: "env:S3_ACCESS_KEY_ID"},
				SecretKey: Secret{ref: "env:S3_SECRET_ACCESS_KEY"},
			},
		},
		Jobs: Jobs{
			RefreshMedia:    "@every 30m",
			ArchiveSweep:    "@every 1h",
			Reconcile:       "@every 6h",
			WebhookWatchdog: "@every 15m",
			Backup:          "@daily",
			Retention:       "@every 6h",
		},
		Backup: Backup{Keep: 7},
		Tasks: Tasks{
			Workers:     4,
			MaxAttempts: 12,
			Lease:       Duration{10 * time.Minute},
			BackoffBase: Duration{5 * time.Second},
			BackoffMax:  Duration{time.Hour},
		},
		CRM: CRM{
			Type:               "rest",
			ContactsSearchPath: "/api/contacts/search",
			MeetingsPath:       "/api/meetings",
			Salesforce: Salesforce{
				LoginURL:   "https://login.salesforce.com",
				APIVersion: "v62.0",
			},
		},
		ATS: ATS{
			Type:           "rest",
			InterviewsPath: "/api/interviews",
			RecordingsPath: "/api/interview-recordings",
			Greenhouse: Greenhouse{
				TokenURL: "https://auth.greenhouse.io/token",
			},
		},
		Followup: Followup{To: "internal", Subject: "Notes: {{title}}"},
		Admin:    Admin{Users: map[string]string{}},
	}
}
