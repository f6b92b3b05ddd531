package ops

import (
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 1, 22, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     time.Time
		wantErr  bool
	}{
		{"rfc3339", "2026-01-20T08:00:00Z", time.Date(2026, 1, 20, 8, 0, 0, 0, time.UTC), false},
		{"rfc3339 with offset", "2026-01-20T09:00:00+01:00", time.Date(2026, 1, 20, 8, 0, 0, 0, time.UTC), false},
		{"hours", "24h", now.Add(-24 * time.Hour), false},
		{"minutes", "90m", now.Add(-90 * time.Minute), false},
		{"days", "7d", now.AddDate(0, 0, -7), false},
		{"negative", "-1h", time.Time{}, true},
		{"words", "yesterday", time.Time{}, true},
		{"date only", "2026-01-20", time.Time{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSince(tc.in, now)
			if (err != nil) != tc.wantErr || !got.Equal(tc.want) {
				t.Fatalf("ParseSince(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}
