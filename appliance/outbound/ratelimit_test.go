package outbound_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/outbound"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"nothing", nil, 0},
		{"Retry-After seconds", map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{"Retry-After HTTP-date (Attio)", map[string]string{"Retry-After": "Mon, 04 May 2026 15:00:30 GMT"}, 30 * time.Second},
		{"Retry-After date in the past", map[string]string{"Retry-After": "Mon, 04 May 2026 14:00:00 GMT"}, 0},
		{"Retry-After wins over RateLimit", map[string]string{"Retry-After": "2", "RateLimit": "limit=10, remaining=0, reset=9"}, 2 * time.Second},
		{"Close RateLimit reset", map[string]string{"RateLimit": "limit=240, remaining=0, reset=1.5"}, 1500 * time.Millisecond},
		{"RateLimit-Reset", map[string]string{"RateLimit-Reset": "4"}, 4 * time.Second},
		{"Pipedrive x-ratelimit-reset seconds", map[string]string{"X-Ratelimit-Limit": "80", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "2"}, 2 * time.Second},
		{"x-ratelimit-reset as a Unix time", map[string]string{"X-Ratelimit-Reset": "1777906860"}, time.Unix(1777906860, 0).Sub(now)},
		{"HubSpot ten-second budget spent", map[string]string{"X-HubSpot-RateLimit-Secondly-Remaining": "0", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}, 10 * time.Second},
		{"HubSpot remaining spent, no interval", map[string]string{"X-HubSpot-RateLimit-Remaining": "0"}, 10 * time.Second},
		{"HubSpot daily budget spent", map[string]string{"X-HubSpot-RateLimit-Daily-Remaining": "0", "X-HubSpot-RateLimit-Secondly-Remaining": "3"}, time.Hour},
		{"HubSpot budget left: no wait", map[string]string{"X-HubSpot-RateLimit-Secondly-Remaining": "9"}, 0},
		{"absurd wait is bounded", map[string]string{"Retry-After": "99999999999"}, 6 * time.Hour},
		{"Greenhouse 429 with only the window reset", map[string]string{"X-RateLimit-Reset": strconv.FormatInt(now.Unix()+12, 10)}, 12 * time.Second},
		{"Greenhouse 429 with its own Retry-After", map[string]string{"Retry-After": "3", "X-RateLimit-Reset": strconv.FormatInt(now.Unix()+12, 10)}, 3 * time.Second},
		{"Greenhouse 429 with a reset already past", map[string]string{"X-RateLimit-Reset": strconv.FormatInt(now.Unix()-10, 10)}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			if got := outbound.RetryAfter(h, now); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	cases := []struct {
		name  string
		auth  outbound.Auth
		check func(*http.Request) bool
	}{
		{"bearer", outbound.Bearer("tok"), func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer tok" }},
		{"basic with empty password (Close)", outbound.Basic("api_key", ""), func(r *http.Request) bool {
			u, p, ok := r.BasicAuth()
			return ok && u == "api_key" && p == ""
		}},
		{"header (Pipedrive)", outbound.Header("x-api-token", "tok"), func(r *http.Request) bool {
			return r.Header.Get("X-Api-Token") == "tok" && r.Header.Get("Authorization") == ""
		}},
		{"query", outbound.Query("api_token", "tok"), func(r *http.Request) bool {
			return r.URL.Query().Get("api_token") == "tok" && r.URL.Query().Get("a") == "1"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ok atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ok.Store(tc.check(r)) }))
			defer srv.Close()
			if err := (&outbound.Client{BaseURL: srv.URL, APIKey: "ignored", Auth: tc.auth}).Call(context.Background(), "GET", "/x?a=1", "", nil, nil); err != nil {
				t.Fatal(err)
			}
			if !ok.Load() {
				t.Fatal("credentials not as the vendor wants them")
			}
		})
	}
}

// A create never carries an Idempotency-Key (net/http would replay it on a
// broken connection), and a lost answer says the record may exist.
func TestDo_CreateIsNeverReplayed(t *testing.T) {
	var mu sync.Mutex
	var posts int
	var idem string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		posts++
		idem = r.Header.Get("Idempotency-Key")
		hj, _ := w.(http.Hijacker)
		c, _, _ := hj.Hijack()
		c.Close() // committed, then the answer is lost
	}))
	defer srv.Close()
	err := (&outbound.Client{BaseURL: srv.URL}).Do(context.Background(), &outbound.Request{Method: "POST", Path: "/m", Idem: "k", JSON: map[string]int{}, Create: true})
	mu.Lock()
	defer mu.Unlock()
	if !errors.Is(err, outbound.ErrMaybeCreated) || posts != 1 || idem != "" {
		t.Fatalf("err %v posts %d idem %q", err, posts, idem)
	}
	if strings.Contains(err.Error(), "?") {
		t.Fatalf("error shows a query: %v", err)
	}
}
