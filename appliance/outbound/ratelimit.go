package outbound

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Auth puts a vendor's credentials on a request.
type Auth func(*http.Request)

// Bearer sends "Authorization: Bearer {token}" (HubSpot private apps,
// Salesforce access tokens, the rest contract).
func Bearer(token string) Auth {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// Basic sends HTTP Basic credentials (Close: the API key as user name and
// an empty password).
func Basic(user, password string) Auth {
	return func(r *http.Request) { r.SetBasicAuth(user, password) }
}

// Header sends the credential in a header of its own (Pipedrive's
// x-api-token).
func Header(name, value string) Auth {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

// Query adds the credential as a query parameter, for APIs that take
// nothing else. Errors never print the query, so it stays out of logs.
func Query(name, value string) Auth {
	return func(r *http.Request) {
		q := r.URL.Query()
		q.Set(name, value)
		r.URL.RawQuery = q.Encode()
	}
}

// maxWait bounds any wait a server asks for: a daily quota whose reset we
// cannot compute still lets the task queue try again (and spend attempts).
const maxWait = 6 * time.Hour

// dailyWait is how long to wait when a vendor says its daily budget is spent
// without saying when it refills (HubSpot resets at midnight in the
// account's time zone, which the API does not tell).
const dailyWait = time.Hour

// RetryAfter reads how long a rate-limited (429) or unavailable (503)
// answer asks the caller to wait, 0 when it does not say. In order:
//
//   - Retry-After as delay-seconds or as an HTTP-date (RFC 9110; Attio sends
//     dates);
//   - RateLimit: "limit=…, remaining=…, reset=S" (Close; the IETF draft),
//     then RateLimit-Reset: S;
//   - X-RateLimit-Reset: S seconds until the window resets (Pipedrive), or a
//     Unix time when the value is that large;
//   - HubSpot's X-HubSpot-RateLimit-*: a spent ten-second budget waits
//     -Interval-Milliseconds (default 10 s), a spent daily one an hour.
//
// The answer is at most six hours.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	d := retryAfter(h, now)
	return min(max(d, 0), maxWait)
}

func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil {
			return seconds(s)
		}
		if t, err := http.ParseTime(v); err == nil {
			return t.Sub(now)
		}
	}
	if v := h.Get("RateLimit"); v != "" {
		for part := range strings.SplitSeq(v, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
			if strings.EqualFold(strings.TrimSpace(k), "reset") {
				if s, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
					return seconds(s)
				}
			}
		}
	}
	for _, name := range []string{"RateLimit-Reset", "X-RateLimit-Reset"} {
		if s, err := strconv.ParseFloat(strings.TrimSpace(h.Get(name)), 64); err == nil {
			if s > 1e9 { // a Unix time, not a delay
				return time.Unix(int64(s), 0).Sub(now)
			}
			return seconds(s)
		}
	}
	if h.Get("X-HubSpot-RateLimit-Daily-Remaining") == "0" {
		return dailyWait
	}
	if h.Get("X-HubSpot-RateLimit-Secondly-Remaining") == "0" || h.Get("X-HubSpot-RateLimit-Remaining") == "0" {
		if ms, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds")); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
		return 10 * time.Second
	}
	return 0
}

// seconds converts a non-negative number of seconds, rounding up.
func seconds(s float64) time.Duration {
	if s <= 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return 0
	}
	if s > maxWait.Seconds() {
		return maxWait
	}
	return time.Duration(math.Ceil(s * float64(time.Second)))
}
