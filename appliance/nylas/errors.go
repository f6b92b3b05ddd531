package nylas

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrNotFound matches (errors.Is) an *Error with status 404.
var ErrNotFound = errors.New("not found")

// Error is a non-2xx answer from Nylas. Type, Message and RequestID come
// from the body's {request_id, error:{type, message}} when it has that
// shape.
type Error struct {
	Status     int
	Type       string
	Message    string
	RequestID  string
	RetryAfter time.Duration // from a Retry-After header, 0 when absent
}

func (e *Error) Error() string {
	s := fmt.Sprintf("nylas: %d", e.Status)
	if e.Type != "" {
		s += " " + e.Type
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

func decodeError(resp *http.Response, body []byte) *Error {
	e := &Error{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	var b struct {
		RequestID string `json:"request_id"`
		Error     struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Type, e.Message, e.RequestID = b.Error.Type, b.Error.Message, b.RequestID
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}
