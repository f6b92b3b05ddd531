package demo

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Driver posts notifications to an appliance the way Nylas does: a POST to
// the webhook URL with X-Nylas-Signature, the lowercase hex HMAC-SHA256 of
// the exact body bytes keyed with the webhook secret.
type Driver struct {
	URL    string // the appliance's webhook URL, e.g. http://127.0.0.1:8080/webhooks/nylas
	Secret string
	HTTP   *http.Client // default: 10 s timeout (Nylas' own limit)
}

// Send posts body signed and returns nil when the appliance answered 200.
// Errors name the status and the start of the answer; ctx bounds the
// request.
func (d *Driver) Send(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post notification: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Nylas-Signature", Sign(d.Secret, body))
	client := d.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post notification: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("post notification: answered %d %s", resp.StatusCode, bytes.TrimSpace(answer))
	}
	return nil
}

// Sign is the X-Nylas-Signature of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
