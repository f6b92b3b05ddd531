package crmtest

import (
	"errors"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

// The classifications every connector's errors must fall into, for tests.

// WaitsFor reports whether err is a retryable failure asking to wait d.
func WaitsFor(err error, d time.Duration) bool {
	var ra *apperr.RetryAfterError
	return errors.As(err, &ra) && ra.After == d
}

// Retryable reports whether err is a failure the task queue retries.
func Retryable(err error) bool {
	var perm *apperr.PermanentError
	return err != nil && !errors.As(err, &perm)
}

// Unauthorized reports whether err is permanent and says the credentials
// were rejected.
func Unauthorized(err error) bool {
	var perm *apperr.PermanentError
	var se *outbound.StatusError
	return errors.As(err, &perm) && errors.As(err, &se) && se.Unauthorized()
}
