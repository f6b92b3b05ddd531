package appliance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Outbound calls a JSON HTTP API for the CRM, the ATS and the alert sinks:
// "Authorization: Bearer {APIKey}" (when APIKey is set), an Idempotency-Key
// derived from the task, bounded bodies and a timeout. It makes one attempt;
// retries are the task queue's: 408, 409, 429, 5xx and network errors come
// back as retryable errors (honouring Retry-After through RetryAfterError),
// any other 4xx as a PermanentError that keeps the start of the response
// body for the operator.
type Outbound struct {
	BaseURL string
	APIKey  string
	HTTP    *http.Client // default: 30 s timeout
	// HidePath keeps the URL's path out of errors, for URLs that are
	// themselves credentials (a Slack incoming webhook).
	HidePath bool
}

// maxOutboundBody bounds a CRM/ATS response.
const maxOutboundBody = 4 << 20

// Call sends method path with in as JSON (when not nil) and decodes the
// answer into out (when not nil). idem, when set, is the Idempotency-Key.
func (o *Outbound) Call(ctx context.Context, method, path, idem string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return Permanent(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(o.BaseURL, "/")+path, body)
	if err != nil {
		return Permanent(err)
	}
	if o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+o.APIKey)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "notekeeper")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	client := o.HTTP
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	where := req.URL.Host + req.URL.Path
	if o.HidePath {
		where = req.URL.Host
	}
	resp, err := client.Do(req)
	if err != nil {
		var cause error = err
		if u := errors.Unwrap(err); u != nil {
			cause = u // a url.Error repeats the whole URL
		}
		return fmt.Errorf("%s %s: %w", method, where, cause)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxOutboundBody))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, where, err)
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		if out != nil && len(bytes.TrimSpace(raw)) > 0 {
			if err := json.Unmarshal(raw, out); err != nil {
				return Permanent(fmt.Errorf("%s %s: decode answer: %w", method, where, err))
			}
		}
		return nil
	case code == 408 || code == 409 || code == 429 || code >= 500:
		err := fmt.Errorf("%s %s: %d", method, where, code)
		if s, perr := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); perr == nil && s > 0 {
			return &RetryAfterError{After: time.Duration(s) * time.Second, Err: err}
		}
		return err
	default:
		snippet := strings.TrimSpace(string(raw[:min(len(raw), 512)]))
		return Permanent(fmt.Errorf("%s %s: %d %s", method, where, code, snippet))
	}
}
