package nylas

import (
	"bytes"
	"cmp"
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

// Limits on what the client reads and waits for.
const (
	maxBody       = 8 << 20         // a 2xx body; a larger one is an error
	maxErrorBody  = 64 << 10        // read of a non-2xx body, and again drained after it
	maxRetryAfter = 5 * time.Minute // a longer Retry-After is not waited out
)

// Defaults for zero-valued Client fields.
const (
	defaultMaxAttempts = 5
	defaultBackoffBase = 500 * time.Millisecond
	defaultBackoffMax  = 30 * time.Second
	defaultUserAgent   = "notekeeper"
	defaultTimeout     = 30 * time.Second
)

// defaultHTTP serves Clients whose HTTP field is nil.
var defaultHTTP = &http.Client{Timeout: defaultTimeout}

// Client talks to one Nylas API region with one API key. It is safe for
// concurrent use; do not change its fields once it is in use.
//
// Zero-valued fields take their defaults, so &Client{BaseURL: …, APIKey: …}
// works as well as New.
type Client struct {
	BaseURL     string        // e.g. https://api.us.nylas.com; a trailing slash is ignored
	APIKey      string        // sent as "Authorization: Bearer …"; never logged, never in errors
	HTTP        *http.Client  // default: 30 s timeout per attempt
	MaxAttempts int           // tries in all, first included; default 5
	BackoffBase time.Duration // first retry delay before jitter; default 500ms
	BackoffMax  time.Duration // cap on the computed delay (not on Retry-After); default 30s
	UserAgent   string        // default "notekeeper"
	Logger      *slog.Logger  // retries are logged here; default: discard

	// sleep waits d or until ctx ends; nil means a timer. Tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// New returns a client for baseURL and apiKey with every default set.
func New(baseURL, apiKey string) *Client {
	return &Client{
		BaseURL:     baseURL,
		APIKey:      apiKey,
		HTTP:        &http.Client{Timeout: defaultTimeout},
		MaxAttempts: defaultMaxAttempts,
		BackoffBase: defaultBackoffBase,
		BackoffMax:  defaultBackoffMax,
		UserAgent:   defaultUserAgent,
		Logger:      slog.New(slog.DiscardHandler),
	}
}

// get GETs path with query and returns the envelope's data (nil when it is
// absent or null).
func (c *Client) get(ctx context.Context, path string, query url.Values) (json.RawMessage, error) {
	raw, err := c.send(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return nil, err
	}
	return envelopeData(raw)
}

// getData GETs path with query and returns the envelope's data; absent or
// null data is errNoData.
func (c *Client) getData(ctx context.Context, path string, query url.Values) (json.RawMessage, error) {
	data, err := c.get(ctx, path, query)
	if err == nil && data == nil {
		err = errNoData
	}
	return data, err
}

// object sends method path with body in (nil for none) and decodes the
// envelope's data into out; absent or null data is an error.
func (c *Client) object(ctx context.Context, method, path string, query url.Values, in, out any) error {
	raw, err := c.send(ctx, method, path, query, in)
	if err != nil {
		return err
	}
	data, err := envelopeData(raw)
	if err != nil {
		return err
	}
	if data == nil {
		return errNoData
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode response data: %w", err)
	}
	return nil
}

// errNoData reports a 2xx answer without the object it should carry.
var errNoData = errors.New("nylas: response has no data")

// envelopeData returns the data member of a {request_id, data} body, or nil
// when it is absent or null.
func envelopeData(raw []byte) (json.RawMessage, error) {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return nil, nil
	}
	return env.Data, nil
}

// send performs method path (path already escaped, query never logged) with
// JSON body in, retrying as the package doc describes, and returns the body
// of the 2xx answer.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, in any) ([]byte, error) {
	return c.sendWith(ctx, method, path, query, in, "")
}

// sendWith is send with an Idempotency-Key header when key is not empty. A
// POST carrying a key is retried like a PUT (also after a 500, 502, 504 or
// a transport failure): Nylas caches the answer to a key for an hour and
// replays it, so a repeat cannot act twice.
func (c *Client) sendWith(ctx context.Context, method, path string, query url.Values, in any, idempotencyKey string) ([]byte, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
	}
	target := strings.TrimRight(c.BaseURL, "/") + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	attempts := c.MaxAttempts
	if attempts < 1 {
		attempts = defaultMaxAttempts
	}
	for attempt := 1; ; attempt++ {
		raw, err := c.once(ctx, method, path, target, body, idempotencyKey)
		if err == nil {
			return raw, nil
		}
		wait, retry := c.retryable(method, err, attempt, idempotencyKey != "")
		if !retry || attempt >= attempts {
			return nil, err
		}
		if cerr := ctx.Err(); cerr != nil {
			if errors.Is(err, cerr) {
				return nil, err // the request itself was cut short by ctx
			}
			return nil, fmt.Errorf("%w before retrying after: %v", cerr, err)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return nil, err // waiting would only end in ctx's deadline
		}
		status := 0
		var apiErr *Error
		if errors.As(err, &apiErr) {
			status = apiErr.Status
		}
		c.logger().Warn("nylas request failed; retrying",
			slog.String("method", method), slog.String("path", path), slog.Int("status", status),
			slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.Any("error", err))
		if serr := c.wait(ctx, wait); serr != nil {
			return nil, fmt.Errorf("%w while waiting to retry after: %v", serr, err)
		}
	}
}

// once sends one request and returns the body of a 2xx answer; otherwise an
// *Error for an HTTP answer, a *transportError when no whole answer came,
// or another error (a body over maxBody).
func (c *Client) once(ctx context.Context, method, path, target string, body []byte, idempotencyKey string) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("nylas: build request %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", cmp.Or(c.UserAgent, defaultUserAgent))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL carries the query; the path is enough
		}
		return nil, &transportError{method: method, path: path, err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		if err != nil {
			return nil, &transportError{method: method, path: path, err: err}
		}
		if len(raw) > maxBody {
			return nil, fmt.Errorf("nylas: %s %s: response body over %d bytes", method, path, maxBody)
		}
		return raw, nil
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	// Drain a little more so the connection can be reused; a body larger
	// still is cut off by Close, which costs only that connection.
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	return nil, c.decodeError(resp, raw)
}

// transportError is a request that got no whole answer: refused, reset or
// dropped connection, the HTTP client's timeout, a body cut short.
type transportError struct {
	method, path string
	err          error
}

func (e *transportError) Error() string {
	return "nylas: " + e.method + " " + e.path + ": " + e.err.Error()
}

func (e *transportError) Unwrap() error { return e.err }

// retryable reports whether err, the outcome of attempt, may be retried and
// after how long; keyed says the request carried an Idempotency-Key.
func (c *Client) retryable(method string, err error, attempt int, keyed bool) (time.Duration, bool) {
	idempotent := keyed || method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete
	var apiErr *Error
	var te *transportError
	switch {
	case errors.As(err, &apiErr):
		switch apiErr.Status {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			if apiErr.RetryAfter > maxRetryAfter {
				return 0, false
			}
			return max(apiErr.RetryAfter, c.backoff(attempt)), true
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
			return c.backoff(attempt), idempotent
		}
	case errors.As(err, &te):
		return c.backoff(attempt), idempotent
	}
	return 0, false
}

// backoff is the delay after attempt: BackoffBase·2^(attempt-1), capped at
// BackoffMax, with equal jitter (half fixed, half random).
func (c *Client) backoff(attempt int) time.Duration {
	base, limit := c.BackoffBase, c.BackoffMax
	if base <= 0 {
		base = defaultBackoffBase
	}
	if limit <= 0 {
		limit = defaultBackoffMax
	}
	d := base
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	return half + rand.N(d-half+1)
}

// wait sleeps d, or returns ctx.Err() as soon as ctx ends.
func (c *Client) wait(ctx context.Context, d time.Duration) error {
	if c.sleep != nil {
		return c.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// parseRetryAfter reads a Retry-After value, delay-seconds or an HTTP date,
// relative to now. It returns 0 when v is empty, malformed or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0
		}
		// Anything past the cap only needs to stay past it (and not overflow).
		return time.Duration(min(s, int64(maxRetryAfter/time.Second)+1)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// segment escapes one caller-supplied path segment, refusing values that
// cannot name an object: empty, "." and ".." (which a server may resolve as
// path steps).
func segment(what, v string) (string, error) {
	if v == "" || v == "." || v == ".." {
		return "", fmt.Errorf("invalid %s %q", what, v)
	}
	return url.PathEscape(v), nil
}
