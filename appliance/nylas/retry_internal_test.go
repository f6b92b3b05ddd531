package nylas

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 22, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{name: "absent", value: "", want: 0},
		{name: "zero seconds", value: "0", want: 0},
		{name: "seconds", value: "7", want: 7 * time.Second},
		{name: "seconds with spaces", value: " 12 ", want: 12 * time.Second},
		{name: "negative", value: "-3", want: 0},
		{name: "garbage", value: "soon", want: 0},
		{name: "fraction is not delay-seconds", value: "1.5", want: 0},
		{name: "huge stays past the cap without overflow", value: "99999999999999999", want: maxRetryAfter + time.Second},
		{name: "HTTP date ahead", value: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second},
		{name: "HTTP date passed", value: now.Add(-time.Hour).Format(http.TimeFormat), want: 0},
		{name: "RFC 850 date", value: now.Add(time.Minute).Format(time.RFC850), want: time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseRetryAfter(tc.value, now); got != tc.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.value, got, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	cases := []struct {
		name      string
		base, max time.Duration
		attempt   int
		nominal   time.Duration // the wait lies in [nominal/2, nominal]
	}{
		{name: "defaults, first retry", attempt: 1, nominal: 500 * time.Millisecond},
		{name: "defaults, fourth retry", attempt: 4, nominal: 4 * time.Second},
		{name: "defaults, capped", attempt: 30, nominal: 30 * time.Second},
		{name: "custom base doubles", base: 10 * time.Millisecond, max: time.Second, attempt: 3, nominal: 40 * time.Millisecond},
		{name: "custom cap", base: time.Second, max: 3 * time.Second, attempt: 5, nominal: 3 * time.Second},
		{name: "tiny base", base: time.Nanosecond, max: time.Second, attempt: 1, nominal: time.Nanosecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{BackoffBase: tc.base, BackoffMax: tc.max}
			for range 200 {
				if d := c.backoff(tc.attempt); d < tc.nominal/2 || d > tc.nominal {
					t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tc.attempt, d, tc.nominal/2, tc.nominal)
				}
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	c := &Client{}
	transport := &transportError{method: "GET", path: "/v3/x", err: http.ErrHandlerTimeout}
	cases := []struct {
		name   string
		method string
		err    error
		keyed  bool
		want   bool
	}{
		{name: "POST 500 with an Idempotency-Key", method: "POST", err: &Error{Status: 500}, keyed: true, want: true},
		{name: "POST transport with an Idempotency-Key", method: "POST", err: &transportError{method: "POST", path: "/v3/x", err: http.ErrHandlerTimeout}, keyed: true, want: true},
		{name: "POST 400 with an Idempotency-Key", method: "POST", err: &Error{Status: 400}, keyed: true},
		{name: "GET 429", method: "GET", err: &Error{Status: 429}, want: true},
		{name: "POST 429", method: "POST", err: &Error{Status: 429}, want: true},
		{name: "POST 503", method: "POST", err: &Error{Status: 503}, want: true},
		{name: "POST 503 with a Retry-After past the cap", method: "POST", err: &Error{Status: 503, RetryAfter: 6 * time.Minute}},
		{name: "GET 429 at the cap", method: "GET", err: &Error{Status: 429, RetryAfter: 5 * time.Minute}, want: true},
		{name: "DELETE 500", method: "DELETE", err: &Error{Status: 500}, want: true},
		{name: "PUT 502", method: "PUT", err: &Error{Status: 502}, want: true},
		{name: "PATCH 500 is not assumed idempotent", method: "PATCH", err: &Error{Status: 500}},
		{name: "POST 500", method: "POST", err: &Error{Status: 500}},
		{name: "GET 408", method: "GET", err: &Error{Status: 408}},
		{name: "GET 422", method: "GET", err: &Error{Status: 422}},
		{name: "GET transport", method: "GET", err: transport, want: true},
		{name: "POST transport", method: "POST", err: transport},
		{name: "GET other error", method: "GET", err: errNoData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, got := c.retryable(tc.method, tc.err, 1, tc.keyed); got != tc.want {
				t.Errorf("retryable = %v, want %v", got, tc.want)
			}
		})
	}
}
