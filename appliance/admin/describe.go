package admin

import (
	"time"

	"github.com/notekeeper/notekeeper/store"
)

// describeMeeting fills m's title, times and participants: what the
// archiver settled (the calendar event or the booking, store.Meeting),
// else the booking the meeting belongs to, else the bot's join time.
func describeMeeting(m *meeting) {
	nt, b := &m.Notetaker, m.Booking
	m.Title, m.StartsAt, m.EndsAt, m.Participants = nt.Meeting.Title, nt.Meeting.StartsAt, nt.Meeting.EndsAt, nt.Meeting.Participants
	if b != nil {
		if m.Title == "" {
			m.Title = b.Title
		}
		if m.StartsAt.IsZero() {
			m.StartsAt, m.EndsAt = b.Start, b.End
		}
		if len(m.Participants) == 0 {
			m.Participants = b.Participants
		}
	}
	if m.StartsAt.IsZero() {
		m.StartsAt = nt.JoinTime
	}
}

// sortTime orders the meetings list: the meeting's start, else when the
// bot was first seen.
func (m *meeting) sortTime() time.Time {
	if !m.StartsAt.IsZero() {
		return m.StartsAt
	}
	return m.FirstSeen
}

// names is the participants' names (e-mails where a name is unknown).
func names(ps []store.Participant) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.Name != "" {
			out = append(out, p.Name)
		} else if p.Email != "" {
			out = append(out, p.Email)
		}
	}
	return out
}
