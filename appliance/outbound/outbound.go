// Package outbound calls the JSON HTTP APIs the appliance delivers to: CRMs,
// ATSs and alert sinks. It makes one attempt per call and classifies the
// answer into the task outcomes of package apperr; retrying is the task
// queue's job.
package outbound

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

	"github.com/notekeeper/notekeeper/appliance/apperr"
)

// Client calls a JSON HTTP API for the CRM, the ATS and the alert sinks:
// "Authorization: Bearer {APIKey}" (when APIKey is set), an Idempotency-Key
// derived from the task, bounded bodies and a timeout. It makes one attempt;
// retries are the task queue's: 408, 409, 429, 5xx and network errors come
// back as retryable errors (honouring Retry-After through apperr.RetryAfterError),
// any other 4xx as a apperr.PermanentError that keeps the start of the response
// body for the operator.
type Client struct {
	BaseURL string
	APIKey  string
	HTTP    *http.Client // default: 30 s timeout
	// HidePath keeps the URL's path out of errors, for URLs that are
	// themselves credentials (a Slack incoming webhook).
	HidePath bool
}

// maxBody bounds a CRM/ATS response.
const maxBody = 4 << 20

// Call sends method path with in as JSON (when not nil) and decodes the
// answer into out (when not nil). idem, when set, is the Idempotency-Key.
func (o *Client) Call(ctx context.Context, method, path, idem string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return apperr.Permanent(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(o.BaseURL, "/")+path, body)
	if err != nil {
		return apperr.Permanent(err)
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
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, where, err)
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		if out != nil && len(bytes.TrimSpace(raw)) > 0 {
			if err := json.Unmarshal(raw, out); err != nil {
				return apperr.Permanent(fmt.Errorf("%s %s: decode answer: %w", method, where, err))
			}
		}
		return nil
	case code == 408 || code == 409 || code == 429 || code >= 500:
		err := &StatusError{Method: method, Where: where, Code: code}
		if s, perr := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); perr == nil && s > 0 {
			return &apperr.RetryAfterError{After: time.Duration(s) * time.Second, Err: err}
		}
		return err
	default:
		snippet := strings.TrimSpace(string(raw[:min(len(raw), 512)]))
		return apperr.Permanent(&StatusError{Method: method, Where: where, Code: code, Body: snippet})
	}
}

// StatusError is a non-2xx answer. Body holds the start of the answer (at
// most 512 bytes) for any 4xx that is not retried; it is what the vendor
// said, shown to the operator, and never holds our credentials.
type StatusError struct {
	Method, Where string
	Code          int
	Body          string
}

func (e *StatusError) Error() string {
	if e.Body != "" {
		return fmt.Sprintf("%s %s: %d %s", e.Method, e.Where, e.Code, e.Body)
	}
	return fmt.Sprintf("%s %s: %d", e.Method, e.Where, e.Code)
}

// Unauthorized reports whether the answer says the credentials are wrong
// (401 or 403).
func (e *StatusError) Unauthorized() bool { return e.Code == 401 || e.Code == 403 }
