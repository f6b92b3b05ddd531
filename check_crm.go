package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/check"
	"github.com/notekeeper/notekeeper/appliance/outbound"
	"github.com/notekeeper/notekeeper/config"
)

// crmProbeTimeout bounds check's one authenticated read of the CRM.
const crmProbeTimeout = 15 * time.Second

// checkCRM makes one authenticated read against the enabled [crm]
// connector: credentials the vendor rejects (or any other refusal that
// retrying cannot fix) are a problem; a vendor that cannot be reached or
// answers 5xx/429 is a warning, since delivery retries.
func checkCRM(cfg config.Config) []check.Finding {
	if !cfg.CRM.Enabled {
		return nil
	}
	conn := crmConnector(cfg.CRM, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), crmProbeTimeout)
	defer cancel()
	err := conn.Probe(ctx)
	var se *outbound.StatusError
	var perm *apperr.PermanentError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se) && se.Unauthorized():
		key := "crm.api_key"
		if cfg.CRM.Type == "salesforce" {
			key = "crm.salesforce.client_id/client_secret"
		}
		return []check.Finding{check.Problem("crm: %s rejected the credentials (%s): %v", conn.Name(), key, err)}
	case errors.As(err, &perm):
		return []check.Finding{check.Problem("crm: %s refused the probe: %v", conn.Name(), err)}
	default:
		return []check.Finding{check.Warning("crm: %s could not be reached (deliveries will retry): %v", conn.Name(), err)}
	}
}
