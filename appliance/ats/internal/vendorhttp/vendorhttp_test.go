package vendorhttp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestToken_ExpiryEitherSpelling(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name, answer string
		want         time.Time
	}{
		{"expires_in seconds", `{"access_token":"a","token_type":"bearer","expires_in":3600}`, now.Add(time.Hour)},
		{"expires_at RFC 3339", `{"access_token":"a","expires_at":"2026-11-23T12:30:00Z"}`, now.Add(30 * time.Minute)},
		{"expires_at Unix seconds", fmt.Sprintf(`{"access_token":"a","expires_at":%d}`, now.Add(10*time.Minute).Unix()), now.Add(10 * time.Minute)},
		{"neither", `{"access_token":"a"}`, now.Add(time.Hour)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if id, secret, _ := r.BasicAuth(); id != "id" || secret != "secret" || r.FormValue("sub") != "42" ||
					r.FormValue("grant_type") != "client_credentials" {
					w.WriteHeader(401)
					return
				}
				w.Write([]byte(tc.answer))
			}))
			defer srv.Close()
			tok := &Token{URL: srv.URL, ClientID: "id", ClientSecret: "secret", Subject: "42", Now: func() time.Time { return now }}
			got, refused, err := tok.get(t.Context(), "")
			if err != nil || refused != nil || got != "a" || !tok.expires.Equal(tc.want) {
				t.Fatalf("token %q expires %v (%v, %v), want %v", got, tok.expires, err, refused, tc.want)
			}
		})
	}
}

func TestList_ArrayOrObject(t *testing.T) {
	cases := []struct {
		name, raw string
		n         int
		err       bool
	}{
		{"array", `[{"id":1},{"id":2}]`, 2, false},
		{"data", `{"data":[{"id":1}]}`, 1, false},
		{"async message", `{"message":"Your request is being processed"}`, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out []struct{ ID json.Number }
			err := List(json.RawMessage(tc.raw), &out)
			if (err != nil) != tc.err || len(out) != tc.n {
				t.Fatalf("got %d items, %v", len(out), err)
			}
		})
	}
}

func TestResetAsRetryAfter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	cases := []struct {
		name       string
		status     int
		retryAfter string
		reset      string
		want       string
	}{
		{"429 with only the window reset", 429, "", "1800000012", "12"},
		{"429 with its own Retry-After", 429, "3", "1800000012", "3"},
		{"429 with a reset already past", 429, "", "1799999990", ""},
		{"not a 429", 503, "", "1800000012", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.Header().Set("X-RateLimit-Reset", tc.reset)
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			c := &http.Client{Transport: &ResetAsRetryAfter{Now: func() time.Time { return now }}}
			resp, err := c.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Retry-After"); got != tc.want {
				t.Fatalf("Retry-After %q, want %q", got, tc.want)
			}
		})
	}
}
