// Package status is the appliance at a glance: the view model that
// `notekeeper status` prints and the admin overview shows. The daemon fills
// it ((*Main).Status in package main); without a daemon the operations
// service (appliance/ops) fills what the store knows. Both the ops socket and
// the admin UI serve this one type, so neither imports the other.
package status

import (
	"time"

	"github.com/notekeeper/notekeeper/store"
)

// Status is the appliance at a glance. The daemon fills every field; an
// operator command run while no daemon runs fills only what the store knows
// (Daemon false, Counts, Webhook, DiskFreeBytes).
type Status struct {
	Version   string    `json:"version"`
	Daemon    bool      `json:"daemon"`              // a running daemon answered
	StartedAt time.Time `json:"started_at,omitzero"` // daemon start
	URL       string    `json:"url,omitempty"`       // where the daemon listens
	DataDir   string    `json:"data_dir"`
	// Checks are /readyz's conditions; Ready is true when all passed.
	Ready  bool          `json:"ready"`
	Checks []CheckResult `json:"checks,omitempty"`
	// Domain and CertificateExpiry: automatic HTTPS, when [server] domain is
	// set; CertificateExpiry is zero until a certificate is held.
	Domain            string    `json:"domain,omitempty"`
	CertificateExpiry time.Time `json:"certificate_expiry,omitzero"`
	DiskFreeBytes     int64     `json:"disk_free_bytes"`
	// Webhook is the last webhook_watchdog view of the Nylas destination.
	Webhook store.WebhookStatus `json:"webhook,omitzero"`
	Counts  store.Counts        `json:"counts"`
	Jobs    []JobRun            `json:"jobs,omitempty"` // sorted by name
}

// CheckResult is one readiness condition's outcome.
type CheckResult struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// JobRun is a cron job's last run and next scheduled time.
type JobRun struct {
	Name     string        `json:"name"`
	Spec     string        `json:"spec"`
	Started  time.Time     `json:"started,omitzero"` // zero: not run since start
	Duration time.Duration `json:"duration"`
	Error    string        `json:"error,omitempty"`
	Next     time.Time     `json:"next,omitzero"`
}
