// Package apperr is the appliance's error vocabulary: client-safe errors with
// a code (mapped to an HTTP status in Status, the only place that knows
// statuses for errors) and the three task outcomes a handler can return
// besides plain failure: Permanent, Later and RetryAfter.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Application error codes. Each maps to one HTTP status in Status, the
// only place that knows HTTP statuses for errors.
const (
	EINVALID      = "invalid"      // the request is malformed (400)
	EUNAUTHORIZED = "unauthorized" // missing or wrong credentials (401)
	EFORBIDDEN    = "forbidden"    // authenticated but not allowed, or a bad signed link (403)
	ENOTFOUND     = "not_found"    // no such thing (404)
	ETOOLARGE     = "too_large"    // the body is over its bound (413)
	EUNAVAILABLE  = "unavailable"  // try again later: the store could not commit (503)
	EINTERNAL     = "internal"     // a bug or an unexpected failure (500)
)

// Error is an error with a code and a message safe to show to the client.
// Anything that is not an *Error is internal: it is logged with detail and
// the client sees only "internal error".
type Error struct {
	Code    string
	Message string
	Err     error // the cause, for logs; never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code and message, keeping err as the cause.
func Wrap(code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Code returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func Code(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// Message returns the client-safe message of err.
func Message(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// PermanentError marks a task failure that retrying cannot fix (a 400 from a
// CRM, a notification that no longer parses): the task is dead-lettered at
// once instead of backing off.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError (nil stays nil).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// LaterError says a task could not start for a reason outside itself (the
// disk is low): it runs again after After without spending an attempt, so
// waiting never dead-letters it.
type LaterError struct {
	After  time.Duration
	Reason string
}

func (e *LaterError) Error() string { return fmt.Sprintf("postponed %v: %s", e.After, e.Reason) }

// Later returns a LaterError.
func Later(after time.Duration, reason string) error {
	return &LaterError{After: after, Reason: reason}
}

// RetryAfterError is a retryable failure whose upstream asked for a minimum
// wait (a Retry-After header): the task backs off at least that long. Unlike
// LaterError it spends an attempt, so an upstream that never recovers still
// dead-letters the task.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// statuses maps error codes to HTTP statuses.
var statuses = map[string]int{
	EINVALID:      http.StatusBadRequest,
	EUNAUTHORIZED: http.StatusUnauthorized,
	EFORBIDDEN:    http.StatusForbidden,
	ENOTFOUND:     http.StatusNotFound,
	ETOOLARGE:     http.StatusRequestEntityTooLarge,
	EUNAVAILABLE:  http.StatusServiceUnavailable,
	EINTERNAL:     http.StatusInternalServerError,
}

// Status returns the HTTP status for err: its code's, 500 for anything that
// is not an *Error.
func Status(err error) int {
	if s, ok := statuses[Code(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}
