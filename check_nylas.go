package main

import (
	"context"
	"errors"

	"github.com/notekeeper/notekeeper/appliance/check"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/config"
)

// checkNylas makes one authenticated read with the Nylas API key (the
// application's webhook destinations): a key Nylas rejects is a problem, an
// API that cannot be reached a warning.
func checkNylas(cfg config.Config) []check.Finding {
	c := nylas.New(cfg.Nylas.APIBase, cfg.Nylas.APIKey.Value())
	c.MaxAttempts = 2
	ctx, cancel := context.WithTimeout(context.Background(), crmProbeTimeout)
	defer cancel()
	_, err := c.ListWebhooks(ctx)
	var ne *nylas.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ne) && (ne.Status == 401 || ne.Status == 403):
		return []check.Finding{check.Problem("nylas.api_key: %s rejected it: %v", cfg.Nylas.APIBase, err)}
	case errors.As(err, &ne) && ne.Status < 500 && ne.Status != 429:
		return []check.Finding{check.Problem("nylas: %s refused the probe: %v", cfg.Nylas.APIBase, err)}
	default:
		return []check.Finding{check.Warning("nylas: %s could not be reached: %v", cfg.Nylas.APIBase, err)}
	}
}
