package outbound

import (
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
