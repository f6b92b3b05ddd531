package config

import (
	"strings"
	"testing"
)

// A URL quoted in a problem message never carries a password or query
// values: those may be credentials.
func TestShownURL(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "https://crm.example.com/api", "https://crm.example.com/api"},
		{"password", "https://user:s3cret@crm.example.com/api", "https://user:xxxxx@crm.example.com/api"},
		{"user only", "https://user@crm.example.com", "https://user@crm.example.com"},
		{"query token", "https://crm.example.com/api?api_key=s3cret", "https://crm.example.com/api?…"},
		{"fragment", "https://crm.example.com/#s3cret", "https://crm.example.com/#…"},
		{"not a URL", "://s3cret", "(not a URL)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := shownURL(tc.in)
			if got != tc.want || strings.Contains(got, "s3cret") {
				t.Fatalf("shownURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// The problem a bad base_url gets quotes it without its credentials.
func TestBaseURLProblemHidesCredentials(t *testing.T) {
	l := &loader{}
	l.baseURL("crm", true, "rest", "https://user:s3cret@crm.example.com/api?token=s3cret")
	if len(l.problems) == 0 {
		t.Fatal("no problem for a base_url with a query")
	}
	for _, p := range l.problems {
		if strings.Contains(p.String(), "s3cret") {
			t.Errorf("problem shows a credential: %s", p)
		}
	}
}
