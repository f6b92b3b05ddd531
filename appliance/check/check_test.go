package check

import (
	"testing"
	"time"
)

func TestClockSane(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want bool
	}{
		{time.Now(), true},
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2150, 1, 1, 0, 0, 0, 0, time.UTC), false},
	} {
		if got := ClockSane(tc.t); got != tc.want {
			t.Errorf("ClockSane(%v) = %v", tc.t, got)
		}
	}
}
