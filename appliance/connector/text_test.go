package connector_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/notekeeper/notekeeper/appliance/connector"
)

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		name, s, tail string
		limit         int
		want          string
	}{
		{"fits", "hello", "\nlink", 100, "hello\nlink"},
		{"no limit", "hello", "", 0, "hello"},
		{"body shortened, tail kept", "abcdefghij", "|L", 8, "abc…|L"},
		{"multibyte not split", "ééééé", "|L", 9, "éé…|L"},
		{"tail alone over limit", "abc", "0123456789", 4, "0123"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := connector.Cut(tc.s, tc.tail, tc.limit)
			if got != tc.want {
				t.Fatalf("Cut = %q, want %q", got, tc.want)
			}
			if tc.limit > 0 && len(got) > tc.limit {
				t.Fatalf("len %d over limit %d", len(got), tc.limit)
			}
			if !utf8.ValidString(got) {
				t.Fatalf("not valid UTF-8: %q", got)
			}
		})
	}
	long := strings.Repeat("日本語", 1000)
	for limit := 1; limit < 40; limit++ {
		if got := connector.Cut(long, "", limit); !utf8.ValidString(got) || len(got) > limit {
			t.Fatalf("limit %d: %q", limit, got)
		}
	}
}
