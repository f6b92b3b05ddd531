package appliance

import (
	"errors"
	"fmt"
	"time"

	"github.com/notekeeper/notekeeper/store"
)

// Status is the appliance at a glance: what `notekeeper status` prints and
// the admin overview shows. The daemon fills every field; an operator
// command run while no daemon runs fills only what the store knows (Daemon
// false, Counts).
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
	Webhook WebhookStatus `json:"webhook,omitzero"`
	Counts  store.Counts  `json:"counts"`
	Jobs    []JobRun      `json:"jobs,omitempty"` // sorted by name
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

// WebhookStatus is what webhook_watchdog last learnt of the Nylas webhook
// destination (store state StateWebhook).
type WebhookStatus struct {
	ID        string    `json:"id,omitempty"`
	Status    string    `json:"status,omitempty"` // active | failing | failed | pause
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// StateWebhook names the store state value holding the WebhookStatus.
const StateWebhook = "webhook/status"

// LastWebhookStatus returns the stored WebhookStatus, zero when the
// watchdog has not run yet.
func LastWebhookStatus(db *store.DB) (WebhookStatus, error) {
	var ws WebhookStatus
	if err := db.GetState(StateWebhook, &ws); err != nil && !errors.Is(err, store.ErrNotFound) {
		return ws, err
	}
	return ws, nil
}

// Delivery is what was delivered for one Notetaker: to the CRM (a meeting
// without booking) or the ATS (its booking's recording). Both are nil when
// nothing was delivered or attempted yet.
type Delivery struct {
	CRM *CRMDelivery `json:"crm,omitempty"`
	// BookingID and ATS: the booking the meeting belongs to and that
	// booking's ATS state.
	BookingID string       `json:"booking_id,omitempty"`
	ATS       *ATSDelivery `json:"ats,omitempty"`
}

// CRMDeliveryOf returns the CRM state of Notetaker id, or nil.
func CRMDeliveryOf(db *store.DB, id string) (*CRMDelivery, error) {
	st, err := db.CRMDelivery(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("crm delivery of %s: %w", id, err)
	}
	return st, nil
}

// ATSDeliveryOf returns the ATS state of booking id, or nil.
func ATSDeliveryOf(db *store.DB, bookingID string) (*ATSDelivery, error) {
	var st ATSDelivery
	switch err := db.GetState(atsStatePrefix+bookingID, &st); {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("ats delivery of %s: %w", bookingID, err)
	}
	return &st, nil
}
