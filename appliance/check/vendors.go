package check

import (
	"context"
	"errors"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

// ProbeTimeout bounds each probe's one authenticated read of a vendor.
const ProbeTimeout = 15 * time.Second

// Prober is a CRM or ATS connector as check sees it: its name and one
// authenticated read (connector.CRM and connector.ATS are Probers).
type Prober interface {
	Name() string
	Probe(ctx context.Context) error
}

// CRM makes one authenticated read against the [crm] connector: credentials
// the vendor rejects (keys names their config keys) or any other refusal
// that retrying cannot fix are a problem; a vendor that cannot be reached or
// answers 5xx/429 is a warning, since delivery retries.
func CRM(conn Prober, keys string) []Finding {
	ctx, cancel := context.WithTimeout(context.Background(), ProbeTimeout)
	defer cancel()
	err := conn.Probe(ctx)
	var se *outbound.StatusError
	var perm *apperr.PermanentError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se) && se.Unauthorized():
		return []Finding{Problem("crm: %s rejected the credentials (%s): %v", conn.Name(), keys, err)}
	case errors.As(err, &perm):
		return []Finding{Problem("crm: %s refused the probe: %v", conn.Name(), err)}
	default:
		return []Finding{Warning("crm: %s could not be reached (deliveries will retry): %v", conn.Name(), err)}
	}
}

// ATS probes the [ats] connector with one authenticated read that also
// proves the acting user exists: refused credentials (or a missing user)
// are a problem, a host that cannot be reached or answers 5xx a warning.
func ATS(conn Prober) []Finding {
	ctx, cancel := context.WithTimeout(context.Background(), ProbeTimeout)
	defer cancel()
	err := conn.Probe(ctx)
	var perm *apperr.PermanentError
	var se *outbound.StatusError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se) && se.Unauthorized():
		return []Finding{Problem("ats (%s): the credentials were refused: %v", conn.Name(), err)}
	case errors.As(err, &perm):
		return []Finding{Problem("ats (%s): %v", conn.Name(), err)}
	}
	return []Finding{Warning("ats (%s): not reachable now: %v", conn.Name(), err)}
}

// Nylas makes one authenticated read with c (the application's webhook
// destinations at apiBase): a key Nylas rejects is a problem, an API that
// cannot be reached a warning.
func Nylas(c *nylas.Client, apiBase string) []Finding {
	c.MaxAttempts = 2
	ctx, cancel := context.WithTimeout(context.Background(), ProbeTimeout)
	defer cancel()
	_, err := c.ListWebhooks(ctx)
	var ne *nylas.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ne) && (ne.Status == 401 || ne.Status == 403):
		return []Finding{Problem("nylas.api_key: %s rejected it: %v", apiBase, err)}
	case errors.As(err, &ne) && ne.Status < 500 && ne.Status != 429:
		return []Finding{Problem("nylas: %s refused the probe: %v", apiBase, err)}
	default:
		return []Finding{Warning("nylas: %s could not be reached: %v", apiBase, err)}
	}
}
