// Package nylas is notekeeper's client for the Nylas v3 API: Notetakers and
// their media, calendar events, and webhook destinations.
//
// A Client sends "Authorization: Bearer {APIKey}" to BaseURL and decodes the
// {request_id, data} envelope. It retries with exponential back-off and
// equal jitter — on 429 (waiting at least what Retry-After says), on 500,
// 502, 503 and 504, and on network errors — up to MaxAttempts in all.
// GET, PUT and DELETE are retried on all of those; POST, which may not be
// idempotent, only on 429 and 503, which mean the request was not processed.
// Other 4xx answers return an *Error at once. The API key never appears in
// an error or a log line.
package nylas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Response bounds.
const (
	maxBody      = 8 << 20
	maxErrorBody = 64 << 10
	// maxRetryAfter: a Retry-After longer than this is not waited for.
	maxRetryAfter = 5 * time.Minute
)

// Client talks to one Nylas API region with one API key. It is safe for
// concurrent use.
type Client struct {
	BaseURL     string
	APIKey      string
	HTTP        *http.Client
	MaxAttempts int
	BackoffBase time.Duration
	BackoffMax  time.Duration
	UserAgent   string
	Logger      *slog.Logger

	sleep func(ctx context.Context, d time.Duration) error // tests replace it
}

// New returns a client with defaults: 30 s per request, 5 attempts, back-off
// from 500 ms up to 30 s.
func New(baseURL, apiKey string) *Client {
	return &Client{
		BaseURL:     strings.TrimRight(baseURL, "/"),
		APIKey:      apiKey,
		HTTP:        &http.Client{Timeout: 30 * time.Second},
		MaxAttempts: 5,
		BackoffBase: 500 * time.Millisecond,
		BackoffMax:  30 * time.Second,
		UserAgent:   "notekeeper",
		Logger:      slog.New(slog.DiscardHandler),
		sleep:       sleepCtx,
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do sends method path (with query q and JSON body in, when not nil) and
// decodes the response's data into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	target := strings.TrimRight(c.BaseURL, "/") + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	for attempt := 1; ; attempt++ {
		raw, err := c.once(ctx, method, target, body)
		if err == nil {
			if out == nil {
				return nil
			}
			if rb, ok := out.(rawBody); ok {
				*rb.p = raw
				return nil
			}
			var env struct {
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(raw, &env); err != nil {
				return fmt.Errorf("decode %s %s: %w", method, path, err)
			}
			if err := json.Unmarshal(env.Data, out); err != nil {
				return fmt.Errorf("decode %s %s: %w", method, path, err)
			}
			return nil
		}
		wait, retry := c.retryable(method, err, attempt)
		if !retry {
			return err
		}
		c.Logger.Warn("nylas request failed; retrying", slog.String("method", method), slog.String("path", path),
			slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.Any("error", err))
		if serr := c.sleep(ctx, wait); serr != nil {
			return serr
		}
	}
}

// once sends one request and returns the body of a 2xx answer, or an error
// (*Error for an HTTP answer).
func (c *Client) once(ctx context.Context, method, target string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL: keep errors short and free of query values
		}
		return nil, &netError{method: method, err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		if err != nil {
			return nil, &netError{method: method, err: err}
		}
		if len(raw) > maxBody {
			return nil, fmt.Errorf("%s: response over %d bytes", method, maxBody)
		}
		return raw, nil
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	return nil, decodeError(resp, raw)
}

// netError is a transport failure (no HTTP answer).
type netError struct {
	method string
	err    error
}

func (e *netError) Error() string { return "nylas: " + e.method + ": " + e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

// retryable decides whether attempt may be followed by another, and after
// how long.
func (c *Client) retryable(method string, err error, attempt int) (time.Duration, bool) {
	if attempt >= c.MaxAttempts {
		return 0, false
	}
	var ne *netError
	var ae *Error
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return 0, false
	case errors.As(err, &ne):
		if method == http.MethodPost {
			return 0, false // it may have been processed
		}
		return c.backoff(attempt), true
	case errors.As(err, &ae):
		switch {
		case ae.Status == http.StatusTooManyRequests:
			if ae.RetryAfter > maxRetryAfter {
				return 0, false
			}
			return max(ae.RetryAfter, c.backoff(attempt)), true
		case ae.Status == http.StatusServiceUnavailable:
			return max(ae.RetryAfter, c.backoff(attempt)), ae.RetryAfter <= maxRetryAfter
		case method != http.MethodPost && (ae.Status == 500 || ae.Status == 502 || ae.Status == 504):
			return c.backoff(attempt), true
		}
	}
	return 0, false
}

// backoff is BackoffBase·2^(attempt-1), capped at BackoffMax, with equal
// jitter: half fixed, half random.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.BackoffBase
	for i := 1; i < attempt && d < c.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, c.BackoffMax)
	half := d / 2
	return half + rand.N(half+1)
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// notetakerPath is the base path of a Notetaker: under its grant, or
// standalone when grantID is empty.
func notetakerPath(grantID, id string) string {
	if grantID == "" {
		return "/v3/notetakers/" + seg(id)
	}
	return "/v3/grants/" + seg(grantID) + "/notetakers/" + seg(id)
}
