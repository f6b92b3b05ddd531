package archive

import (
	"encoding/json"
	"fmt"
	"time"
)

// Participant is one person of a meeting in a Manifest.
type Participant struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Stamp is a manifest time that may be unknown: RFC 3339 in UTC to the
// second, or "" when zero (docs/archive.md: title, times and participants are
// empty when unknown). It reads "", null and RFC 3339.
type Stamp struct{ time.Time }

// MarshalJSON writes "" for the zero time, else RFC 3339 UTC seconds.
func (s Stamp) MarshalJSON() ([]byte, error) {
	if s.IsZero() {
		return []byte(`""`), nil
	}
	return json.Marshal(s.UTC().Truncate(time.Second).Format(time.RFC3339))
}

// UnmarshalJSON reads "", null or an RFC 3339 time.
func (s *Stamp) UnmarshalJSON(b []byte) error {
	var v *string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("manifest time: %w", err)
	}
	if v == nil || *v == "" {
		s.Time = time.Time{}
		return nil
	}
	t, err := time.Parse(time.RFC3339, *v)
	if err != nil {
		return fmt.Errorf("manifest time: %w", err)
	}
	s.Time = t.UTC()
	return nil
}
