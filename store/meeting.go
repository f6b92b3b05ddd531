package store

import "time"

// Meeting is what a Notetaker's meeting was: its title, times and people,
// taken from the calendar event (Source "event") or, when there is no
// event to read, from the Scheduler booking (Source "booking"). The
// archiver fills it once when the archive completes; Source "" means it is
// not known (yet).
//
// The event's participants are kept as Nylas gave them (organizer first
// when the event names one), so the CRM delivery can use them without
// asking Nylas again.
type Meeting struct {
	Title        string        `json:"title,omitempty"`
	StartsAt     time.Time     `json:"starts_at,omitzero"`
	EndsAt       time.Time     `json:"ends_at,omitzero"`
	Participants []Participant `json:"participants,omitempty"`
	// Source is "event", "booking" or "" (unknown).
	Source string `json:"source,omitempty"`
	// DescribedAt is when the archiver last settled the metadata; zero
	// while it still has to try (the backfill picks those up).
	DescribedAt time.Time `json:"described_at,omitzero"`
	// Tries counts failed attempts to read the calendar event; the
	// backfill gives up after a few and keeps the booking's data (or none).
	Tries int `json:"tries,omitempty"`
}

// Known reports whether anything is known of the meeting.
func (m Meeting) Known() bool { return m.Source != "" }
