package nylas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
)

// Webhook is a webhook destination. Status is "active", "pause", "failing"
// (most deliveries failing; Nylas e-mails NotificationEmailAddresses) or
// "failed" (Nylas has stopped delivering and will not resume by itself:
// reactivate with UpdateWebhook Status "active"). WebhookSecret is set only
// in the answers of CreateWebhook and RotateWebhookSecret. Times are Unix
// seconds.
type Webhook struct {
	ID                         string   `json:"id"`
	Description                string   `json:"description"`
	WebhookURL                 string   `json:"webhook_url"`
	Status                     string   `json:"status"`
	WebhookSecret              string   `json:"webhook_secret"`
	TriggerTypes               []string `json:"trigger_types"`
	NotificationEmailAddresses []string `json:"notification_email_addresses"`
	CompressedDelivery         bool     `json:"compressed_delivery"`
	StatusUpdatedAt            int64    `json:"status_updated_at"`
	CreatedAt                  int64    `json:"created_at"`
	UpdatedAt                  int64    `json:"updated_at"`
}

// LogValue logs a Webhook without its secret (only whether it has one).
func (w Webhook) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", w.ID),
		slog.String("webhook_url", w.WebhookURL),
		slog.String("status", w.Status),
		slog.Any("trigger_types", w.TriggerTypes),
		slog.Bool("has_secret", w.WebhookSecret != ""),
	)
}

// WebhookCreate is the body of CreateWebhook. TriggerTypes and WebhookURL
// are required; the rest is sent only when set.
type WebhookCreate struct {
	TriggerTypes               []string `json:"trigger_types"`
	WebhookURL                 string   `json:"webhook_url"`
	Description                string   `json:"description,omitempty"`
	NotificationEmailAddresses []string `json:"notification_email_addresses,omitempty"`
	CompressedDelivery         bool     `json:"compressed_delivery,omitempty"`
}

// WebhookUpdate is the body of UpdateWebhook. Only non-zero fields are sent,
// so a field cannot be cleared through it.
type WebhookUpdate struct {
	TriggerTypes               []string `json:"trigger_types,omitempty"`
	WebhookURL                 string   `json:"webhook_url,omitempty"`
	Description                string   `json:"description,omitempty"`
	Status                     string   `json:"status,omitempty"` // "active" or "pause"
	NotificationEmailAddresses []string `json:"notification_email_addresses,omitempty"`
}

// CreateWebhook creates a webhook destination (POST /v3/webhooks) and
// returns it with its WebhookSecret. Nylas first sends its challenge GET to
// WebhookURL and answers only after that succeeded, so the receiver must
// already be serving. Being a POST, it is retried only on 429 and 503: after
// a dropped connection or a 5xx, list the destinations before creating again.
//
// Errors: an *Error for a non-2xx answer (a failed challenge comes back as a
// 4xx); an error without a request when TriggerTypes or WebhookURL is empty;
// ctx's error when it ends first.
func (c *Client) CreateWebhook(ctx context.Context, w WebhookCreate) (*Webhook, error) {
	if len(w.TriggerTypes) == 0 || w.WebhookURL == "" {
		return nil, errors.New("create webhook: trigger_types and webhook_url are required")
	}
	var out Webhook
	if err := c.object(ctx, http.MethodPost, "/v3/webhooks", nil, w, &out); err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	return &out, nil
}

// ListWebhooks returns every webhook destination of the application
// (GET /v3/webhooks), following next_cursor as page_token when Nylas pages
// the answer. Secrets are not included.
//
// Errors: an *Error for a non-2xx answer once retries are spent; an error
// when Nylas repeats a cursor; ctx's error when it ends first.
func (c *Client) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	var all []Webhook
	var query url.Values
	seen := map[string]bool{}
	for {
		raw, err := c.send(ctx, http.MethodGet, "/v3/webhooks", query, nil)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		var page struct {
			Data       []Webhook `json:"data"`
			NextCursor string    `json:"next_cursor"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, fmt.Errorf("list webhooks: decode: %w", err)
		}
		all = append(all, page.Data...)
		if page.NextCursor == "" {
			return all, nil
		}
		if seen[page.NextCursor] {
			return nil, errors.New("list webhooks: the API repeated a page cursor")
		}
		seen[page.NextCursor] = true
		query = url.Values{"page_token": {page.NextCursor}}
	}
}

// GetWebhook returns webhook destination id (GET /v3/webhooks/{id}),
// without its secret.
//
// Errors: ErrNotFound (through errors.Is) when Nylas answers 404; an *Error
// for any other non-2xx answer once retries are spent; an error without a
// request when id is empty, "." or ".."; ctx's error when it ends first.
func (c *Client) GetWebhook(ctx context.Context, id string) (*Webhook, error) {
	seg, err := segment("webhook id", id)
	if err != nil {
		return nil, fmt.Errorf("get webhook: %w", err)
	}
	var out Webhook
	if err := c.object(ctx, http.MethodGet, "/v3/webhooks/"+seg, nil, nil, &out); err != nil {
		return nil, fmt.Errorf("get webhook %q: %w", id, err)
	}
	return &out, nil
}

// UpdateWebhook changes destination id (PUT /v3/webhooks/{id}), sending
// only u's non-zero fields, and returns it. WebhookUpdate{Status: "active"}
// reactivates a failed destination; what Nylas missed meanwhile is not
// replayed.
//
// Errors: as GetWebhook, and an error without a request when u sets
// nothing.
func (c *Client) UpdateWebhook(ctx context.Context, id string, u WebhookUpdate) (*Webhook, error) {
	seg, err := segment("webhook id", id)
	if err != nil {
		return nil, fmt.Errorf("update webhook: %w", err)
	}
	if len(u.TriggerTypes) == 0 && u.WebhookURL == "" && u.Description == "" && u.Status == "" && len(u.NotificationEmailAddresses) == 0 {
		return nil, fmt.Errorf("update webhook %q: nothing to change", id)
	}
	var out Webhook
	if err := c.object(ctx, http.MethodPut, "/v3/webhooks/"+seg, nil, u, &out); err != nil {
		return nil, fmt.Errorf("update webhook %q: %w", id, err)
	}
	return &out, nil
}

// RotateWebhookSecret makes Nylas issue a new secret for destination id
// (POST /v3/webhooks/rotate-secret/{id}) and returns the destination with
// it. The old secret stops signing at once, with no overlap, and
// notifications signed with the new one may arrive before this call
// returns. Being a POST, it is retried only on 429 and 503.
//
// Errors: as GetWebhook.
func (c *Client) RotateWebhookSecret(ctx context.Context, id string) (*Webhook, error) {
	seg, err := segment("webhook id", id)
	if err != nil {
		return nil, fmt.Errorf("rotate webhook secret: %w", err)
	}
	var out Webhook
	if err := c.object(ctx, http.MethodPost, "/v3/webhooks/rotate-secret/"+seg, nil, struct{}{}, &out); err != nil {
		return nil, fmt.Errorf("rotate webhook secret %q: %w", id, err)
	}
	return &out, nil
}
