package tls_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	apptls "github.com/notekeeper/notekeeper/tls"
)

func TestRedirectHandler(t *testing.T) {
	cases := []struct {
		name   string
		port   int
		method string
		target string
		host   string
		want   string
	}{
		{"root, default port", 443, "GET", "/", "notes.example.com", "https://notes.example.com/"},
		{"path and query kept", 443, "GET", "/admin/meetings?q=a%20b", "notes.example.com", "https://notes.example.com/admin/meetings?q=a%20b"},
		{"other https port", 8443, "GET", "/x", "notes.example.com", "https://notes.example.com:8443/x"},
		{"POST keeps 308", 443, "POST", "/webhooks/nylas", "notes.example.com", "https://notes.example.com/webhooks/nylas"},
		{"forged Host ignored", 443, "GET", "/", "evil.example", "https://notes.example.com/"},
		{"escaped path kept", 443, "GET", "/files/a%2Fb", "notes.example.com", "https://notes.example.com/files/a%2Fb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://"+tc.host+tc.target, nil)
			rec := httptest.NewRecorder()
			apptls.RedirectHandler("notes.example.com", tc.port).ServeHTTP(rec, req)
			if rec.Code != http.StatusPermanentRedirect {
				t.Fatalf("status %d, want 308", rec.Code)
			}
			if got := rec.Header().Get("Location"); got != tc.want {
				t.Fatalf("Location %q, want %q", got, tc.want)
			}
		})
	}
}
