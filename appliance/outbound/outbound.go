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
	"net/url"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
)

// Client calls a JSON HTTP API for the CRM, the ATS and the alert sinks:
// credentials from Auth (default "Authorization: Bearer {APIKey}" when APIKey
// is set), an Idempotency-Key when the caller gives one, bounded bodies and a
// timeout. It makes one attempt; retries are the task queue's: 408, 409,
// 429, 5xx and network errors come back as retryable errors (honouring
// Retry-After and the vendors' rate-limit headers through
// apperr.RetryAfterError, see RetryAfter), any other 4xx as an
// apperr.PermanentError around a *StatusError that keeps the start of the
// response body for the operator.
type Client struct {
	BaseURL string
	APIKey  string
	// Auth sets the credentials on each request; nil means Bearer(APIKey)
	// when APIKey is set, none otherwise.
	Auth Auth
	HTTP *http.Client // default: 30 s timeout
	// HidePath keeps the URL's path out of errors, for URLs that are
	// themselves credentials (a Slack incoming webhook).
	HidePath bool
}

// maxBody bounds a CRM/ATS response.
const maxBody = 4 << 20

// Call sends method path with in as JSON (when not nil) and decodes the
// answer into out (when not nil). idem, when set, is the Idempotency-Key.
func (o *Client) Call(ctx context.Context, method, path, idem string, in, out any) error {
	return o.Do(ctx, &Request{Method: method, Path: path, Idem: idem, JSON: in, Out: out})
}

// Request is one call: Method and Path (joined to BaseURL; it may carry a
// query), a JSON body or a form body, and where to decode the answer.
type Request struct {
	Method, Path string
	Idem         string     // Idempotency-Key header, "" for none
	JSON         any        // sent as application/json when not nil
	Form         url.Values // sent as application/x-www-form-urlencoded when not nil
	Out          any        // the 2xx answer is decoded into it when not nil
	// Create marks a request that creates a record at a vendor that does not
	// deduplicate creates. It is never sent with an Idempotency-Key (with one,
	// net/http replays a request whose connection broke after it was
	// written), and an error after the request may have reached the vendor
	// wraps ErrMaybeCreated: the caller must look for the record before
	// creating it again.
	Create bool
}

// ErrMaybeCreated is wrapped by the error of a Create request whose answer
// was lost or was a 5xx: the record may exist.
var ErrMaybeCreated = errors.New("the record may have been created")

// Do sends r and classifies the answer (see Client).
func (o *Client) Do(ctx context.Context, r *Request) error {
	var body io.Reader
	var ctype string
	switch {
	case r.JSON != nil:
		b, err := json.Marshal(r.JSON)
		if err != nil {
			return apperr.Permanent(err)
		}
		body, ctype = bytes.NewReader(b), "application/json"
	case r.Form != nil:
		body, ctype = strings.NewReader(r.Form.Encode()), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, strings.TrimRight(o.BaseURL, "/")+r.Path, body)
	if err != nil {
		return apperr.Permanent(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "notekeeper")
	switch { // after the defaults: an Auth may set its own Accept (Ashby's version)
	case o.Auth != nil:
		o.Auth(req)
	case o.APIKey != "":
		Bearer(o.APIKey)(req)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if r.Idem != "" && !r.Create {
		req.Header.Set("Idempotency-Key", r.Idem)
	}
	client := o.HTTP
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	where := req.URL.Host + req.URL.Path
	if o.HidePath {
		where = req.URL.Host
	}
	maybe := func(err error) error {
		if r.Create {
			return fmt.Errorf("%w (%w)", err, ErrMaybeCreated)
		}
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		var cause error = err
		if u := errors.Unwrap(err); u != nil {
			cause = u // a url.Error repeats the whole URL
		}
		return maybe(fmt.Errorf("%s %s: %w", r.Method, where, cause))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return maybe(fmt.Errorf("%s %s: %w", r.Method, where, err))
	}
	snippet := strings.TrimSpace(string(raw[:min(len(raw), 512)]))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		if r.Out != nil && len(bytes.TrimSpace(raw)) > 0 {
			if err := json.Unmarshal(raw, r.Out); err != nil {
				return apperr.Permanent(fmt.Errorf("%s %s: decode answer: %w", r.Method, where, err))
			}
		}
		return nil
	case code == 408 || code == 409 || code == 429 || code >= 500:
		var err error = &StatusError{Method: r.Method, Where: where, Code: code, Body: snippet, Header: resp.Header}
		if code >= 500 {
			err = maybe(err)
		}
		if d := RetryAfter(resp.Header, time.Now()); d > 0 {
			return &apperr.RetryAfterError{After: d, Err: err}
		}
		return err
	default:
		return apperr.Permanent(&StatusError{Method: r.Method, Where: where, Code: code, Body: snippet, Header: resp.Header})
	}
}

// StatusError is a non-2xx answer. Body holds the start of the answer (at
// most 512 bytes): what the vendor said, shown to the operator, never our
// credentials. Header is the answer's header (rate-limit and error headers),
// for connectors that read vendor signals from it; it is not printed.
type StatusError struct {
	Method, Where string
	Code          int
	Body          string
	Header        http.Header
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
