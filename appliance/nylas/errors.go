package nylas

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrNotFound matches, through errors.Is, an *Error with status 404: the
// Notetaker, event or webhook destination does not exist (or is not visible
// to this API key and grant).
var ErrNotFound = errors.New("not found")

// maxErrorText bounds each server-supplied string kept in an Error.
const maxErrorText = 512

// Error is a non-2xx answer from Nylas. Type, Message and RequestID come from
// a {request_id, error:{type, message}} body when it has that shape; Message
// is otherwise the status text. All three are server-supplied text: they are
// cut to 512 bytes and scrubbed of the API key, but otherwise untrusted.
type Error struct {
	Status     int
	Type       string        // e.g. not_found_error, invalid_request_error, nylas_rate_limit_exceeded
	Message    string        // human-readable, from Nylas
	RequestID  string        // quote it to Nylas support
	RetryAfter time.Duration // from a Retry-After header; 0 when absent or unparsable
}

// Error reads like "nylas: 404 not_found_error: Notetaker not found (request
// req-1)"; the type and request parts are left out when unknown.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nylas: %d", e.Status)
	if e.Type != "" {
		b.WriteString(" " + e.Type)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request " + e.RequestID + ")")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// decodeError builds the *Error for resp, whose body starts with body.
func (c *Client) decodeError(resp *http.Response, body []byte) *Error {
	e := &Error{Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	var b struct {
		RequestID string          `json:"request_id"`
		Error     json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.RequestID = c.clean(b.RequestID)
		var detail struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		}
		var text string
		switch {
		case json.Unmarshal(b.Error, &detail) == nil:
			e.Type, e.Message = c.clean(detail.Type), c.clean(detail.Message)
		case json.Unmarshal(b.Error, &text) == nil: // {"error":"…"}, as some proxies answer
			e.Message = c.clean(text)
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// clean makes server-supplied text safe to keep in an error: the API key
// removed, at most maxErrorText bytes, valid UTF-8.
func (c *Client) clean(s string) string {
	if c.APIKey != "" {
		s = strings.ReplaceAll(s, c.APIKey, "[redacted]")
	}
	if len(s) > maxErrorText {
		s = s[:maxErrorText] + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
