package nylas

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Webhook is a webhook destination. WebhookSecret is only returned by
// create and rotate.
type Webhook struct {
	ID                         string   `json:"id"`
	Description                string   `json:"description"`
	WebhookURL                 string   `json:"webhook_url"`
	Status                     string   `json:"status"` // active, pause, failing, failed
	WebhookSecret              string   `json:"webhook_secret"`
	TriggerTypes               []string `json:"trigger_types"`
	NotificationEmailAddresses []string `json:"notification_email_addresses"`
	CompressedDelivery         bool     `json:"compressed_delivery"`
	StatusUpdatedAt            int64    `json:"status_updated_at"`
	CreatedAt                  int64    `json:"created_at"`
	UpdatedAt                  int64    `json:"updated_at"`
}

// WebhookCreate is the body of CreateWebhook.
type WebhookCreate struct {
	TriggerTypes               []string `json:"trigger_types"`
	WebhookURL                 string   `json:"webhook_url"`
	Description                string   `json:"description,omitempty"`
	NotificationEmailAddresses []string `json:"notification_email_addresses,omitempty"`
	CompressedDelivery         bool     `json:"compressed_delivery,omitempty"`
}

// WebhookUpdate is the body of UpdateWebhook; only set fields are sent.
type WebhookUpdate struct {
	TriggerTypes               []string `json:"trigger_types,omitempty"`
	WebhookURL                 string   `json:"webhook_url,omitempty"`
	Description                string   `json:"description,omitempty"`
	Status                     string   `json:"status,omitempty"`
	NotificationEmailAddresses []string `json:"notification_email_addresses,omitempty"`
}

// CreateWebhook creates a destination; Nylas sends its challenge GET before
// answering. Not retried on network errors (it may have been created).
func (c *Client) CreateWebhook(ctx context.Context, w WebhookCreate) (*Webhook, error) {
	var out Webhook
	if err := c.do(ctx, http.MethodPost, "/v3/webhooks", nil, w, &out); err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	return &out, nil
}

// ListWebhooks returns every destination, following next_cursor.
func (c *Client) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	var all []Webhook
	q := ListQuery{Limit: 200}
	seen := map[string]bool{}
	for {
		raw, err := c.page(ctx, "/v3/webhooks", q.values())
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		var p struct {
			Data       []Webhook `json:"data"`
			NextCursor string    `json:"next_cursor"`
		}
		if err := decodeJSON(raw, &p); err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		all = append(all, p.Data...)
		if p.NextCursor == "" {
			return all, nil
		}
		if seen[p.NextCursor] {
			return nil, errors.New("list webhooks: the API repeated a page cursor")
		}
		seen[p.NextCursor] = true
		q.PageToken = p.NextCursor
	}
}

// GetWebhook returns one destination.
func (c *Client) GetWebhook(ctx context.Context, id string) (*Webhook, error) {
	var out Webhook
	if err := c.do(ctx, http.MethodGet, "/v3/webhooks/"+seg(id), nil, nil, &out); err != nil {
		return nil, fmt.Errorf("get webhook %s: %w", id, err)
	}
	return &out, nil
}

// UpdateWebhook changes a destination (e.g. Status "active" to reactivate it).
func (c *Client) UpdateWebhook(ctx context.Context, id string, u WebhookUpdate) (*Webhook, error) {
	var out Webhook
	if err := c.do(ctx, http.MethodPut, "/v3/webhooks/"+seg(id), nil, u, &out); err != nil {
		return nil, fmt.Errorf("update webhook %s: %w", id, err)
	}
	return &out, nil
}

// RotateWebhookSecret makes Nylas issue a new secret, effective at once.
func (c *Client) RotateWebhookSecret(ctx context.Context, id string) (*Webhook, error) {
	var out Webhook
	if err := c.do(ctx, http.MethodPost, "/v3/webhooks/rotate-secret/"+seg(id), nil, nil, &out); err != nil {
		return nil, fmt.Errorf("rotate webhook secret %s: %w", id, err)
	}
	return &out, nil
}
