package appliance

import (
	"context"
	"fmt"

	"github.com/notekeeper/notekeeper/store"
)

// WebhookWatchdog is the webhook_watchdog job: when this appliance's
// webhook destination is known, it reads its status and raises
// webhook.unhealthy when Nylas marks it failing or failed (Nylas stops
// delivering to a failed destination and never reactivates it by itself).
func (a *Archiver) WebhookWatchdog(ctx context.Context) error {
	if a.DestinationID == nil {
		return nil
	}
	id, err := a.DestinationID()
	if err != nil || id == "" {
		return err
	}
	wh, err := a.Nylas.GetWebhook(ctx, id)
	if err != nil {
		return fmt.Errorf("webhook watchdog: %w", err)
	}
	ws := store.WebhookStatus{ID: id, Status: wh.Status, CheckedAt: a.Now().UTC()}
	if err := a.DB.PutWebhookStatus(ws); err != nil {
		return fmt.Errorf("webhook watchdog: %w", err)
	}
	switch wh.Status {
	case "failing", "failed":
		return a.alert(store.AlertWebhookUnhealthy, id, fmt.Sprintf("the Nylas webhook destination is %s: notifications are not being delivered; "+
			"reactivate it (PUT /v3/webhooks/%s {\"status\":\"active\"}) once notekeeper is reachable", wh.Status, id))
	}
	return nil
}
