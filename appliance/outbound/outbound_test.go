package outbound_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

func TestCall_Classification(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		header    map[string]string
		permanent bool
		after     time.Duration
	}{
		{"200", 200, nil, false, 0},
		{"408 retried", 408, nil, false, 0},
		{"409 retried", 409, nil, false, 0},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "30"}, false, 30 * time.Second},
		{"503 retried", 503, nil, false, 0},
		{"400 permanent", 400, nil, true, 0},
		{"404 permanent", 404, nil, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got http.Header
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Clone()
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(`{"error":"the CRM's reason"}`))
			}))
			defer srv.Close()
			err := (&outbound.Client{BaseURL: srv.URL, APIKey: "k"}).Call(context.Background(), "POST", "/x", "idem-1", map[string]int{"a": 1}, nil)
			if got.Get("Authorization") != "Bearer k" || got.Get("Idempotency-Key") != "idem-1" || got.Get("Content-Type") != "application/json" {
				t.Fatalf("headers %v", got)
			}
			var perm *apperr.PermanentError
			var ra *apperr.RetryAfterError
			switch {
			case tc.status == 200:
				if err != nil {
					t.Fatal(err)
				}
			case tc.permanent:
				if !errors.As(err, &perm) || !strings.Contains(err.Error(), "the CRM's reason") {
					t.Fatalf("want permanent with the body kept, got %v", err)
				}
			default:
				if err == nil || errors.As(err, &perm) {
					t.Fatalf("want retryable, got %v", err)
				}
				if tc.after > 0 && (!errors.As(err, &ra) || ra.After != tc.after) {
					t.Fatalf("want Retry-After %v, got %v", tc.after, err)
				}
			}
		})
	}
}

func TestCall_HidePathKeepsSlackTokenOutOfErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Error("credentials sent to a sink")
		}
		w.WriteHeader(500)
	}))
	defer srv.Close()
	err := (&outbound.Client{BaseURL: srv.URL + "/services/T000/B000/SECRETTOKEN", HidePath: true}).Call(context.Background(), "POST", "", "", map[string]string{}, nil)
	if err == nil || strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Fatalf("error %v", err)
	}
	srv.Close()
	err = (&outbound.Client{BaseURL: srv.URL + "/services/T000/B000/SECRETTOKEN", HidePath: true}).Call(context.Background(), "POST", "", "", map[string]string{}, nil)
	if err == nil || strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Fatalf("network error %v", err)
	}
}
