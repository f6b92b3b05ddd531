package config

import (
	"fmt"
	"strings"
	"time"
)

// Duration is a time.Duration written in TOML as a string ("72h", "30m",
// "1h30m"), as accepted by time.ParseDuration.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler. The error quotes the bad
// value.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("invalid duration %q: write a number with a unit, e.g. \"30m\" or \"72h\"", text)
	}
	d.Duration = v
	return nil
}

// String returns the duration in the shortest form ParseDuration reads
// back: "72h" and "1h30m" rather than time.Duration's "72h0m0s" and
// "1h30m0s".
func (d Duration) String() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalText implements encoding.TextMarshaler with String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
