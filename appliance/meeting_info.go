package appliance

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/store"
)

const (
	// describeTries is how many times the calendar event is asked for
	// (once at the archive, then by the backfill) before the booking's data,
	// or nothing, is kept for good.
	describeTries = 3
	// backfillPerRun bounds how many archived meetings one sweep describes,
	// so a data dir from before meeting metadata catches up without a burst
	// of calls to the Events API.
	backfillPerRun = 20
)

// MeetingIndex is the search index as the archiver keeps it current
// (appliance/search.Index satisfies it). Update re-reads one meeting's
// folder — manifest and whatever files are still there — and replaces its
// entries; it must be safe for concurrent use.
type MeetingIndex interface {
	Update(notetakerID string) error
}

// describe settles nt's meeting metadata once its archive is complete: the
// title, start, end and participants of its Scheduler booking when it
// belongs to one (an interview: the booking is what notekeeper already
// holds, kept current by booking.rescheduled, and needs no API call), else
// of its calendar event, fetched once and kept in the Notetaker record,
// where the CRM delivery can read it. Then it writes them into
// manifest.json. A failure to reach the Events API is not the archive's
// failure: nothing is kept yet, and the backfill asks again, up to
// describeTries times in all. Only store errors are returned.
func (a *Archiver) describe(ctx context.Context, nt *store.Notetaker) (*store.Notetaker, error) {
	if !nt.Meeting.DescribedAt.IsZero() {
		return nt, nil
	}
	b, err := bookingOf(a.DB, nt)
	if err != nil {
		return nil, err
	}
	var m store.Meeting
	final := true
	switch {
	case b != nil:
		m = meetingOfBooking(b)
	case nt.GrantID != "" && nt.Event.EventID != "" && a.Nylas == nil:
		return nt, nil // no API client here (a command without the daemon): the daemon's sweep asks
	case nt.GrantID != "" && nt.Event.EventID != "":
		ev, err := a.Nylas.GetEvent(ctx, nt.GrantID, nt.Event.EventID, cmp.Or(nt.Event.CalendarID, "primary"))
		switch {
		case err == nil:
			m = meetingOfEvent(ev)
		case ctx.Err() != nil:
			return nt, nil // shutting down: the backfill tries again
		case errors.Is(err, nylas.ErrNotFound):
			// The event is gone: nothing is known of the meeting.
		default:
			final = nt.Meeting.Tries+1 >= describeTries
			a.Logger.Warn("calendar event not read", slog.String("notetaker", nt.ID), slog.String("event", nt.Event.EventID),
				slog.Bool("retried_later", !final), slog.Any("error", err))
		}
	}
	now := a.Now().UTC()
	updated, err := a.DB.UpdateNotetaker(nt.ID, func(n *store.Notetaker) error {
		tries := n.Meeting.Tries
		n.Meeting = m
		n.Meeting.Tries = tries
		if final {
			n.Meeting.DescribedAt = now
		} else {
			n.Meeting.Tries++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := a.writeMeeting(ctx, updated); err != nil {
		a.Logger.Warn("meeting metadata not written to the manifest", slog.String("notetaker", nt.ID), slog.Any("error", err))
	}
	return updated, nil
}

// writeMeeting puts nt's meeting into its manifest.json (and the bucket's
// copy with a Target). A folder without a manifest is left alone.
func (a *Archiver) writeMeeting(ctx context.Context, nt *store.Notetaker) error {
	dir, err := archive.MediaDir(a.DataDir, nt.ID)
	if err != nil {
		return err
	}
	man, err := archive.ReadManifest(dir)
	if errors.Is(err, archive.ErrNoManifest) {
		return nil
	} else if err != nil {
		return err
	}
	ManifestMeeting(man, nt.Meeting)
	if err := archive.WriteManifest(dir, man); err != nil {
		return err
	}
	if a.Target != nil {
		return a.Target.PutManifest(ctx, nt.ID, man)
	}
	return nil
}

// ManifestMeeting copies m into man's title, times and participants.
func ManifestMeeting(man *archive.Manifest, m store.Meeting) {
	man.Title = m.Title
	man.StartsAt, man.EndsAt = archive.Stamp{Time: m.StartsAt}, archive.Stamp{Time: m.EndsAt}
	man.Participants = make([]archive.Participant, 0, len(m.Participants))
	for _, p := range m.Participants {
		man.Participants = append(man.Participants, archive.Participant{Name: p.Name, Email: p.Email})
	}
}

// meetingOfEvent is the meeting a calendar event describes; the organizer
// counts as a participant.
func meetingOfEvent(ev *nylas.Event) store.Meeting {
	m := store.Meeting{Title: ev.Title, Source: "event"}
	m.StartsAt, m.EndsAt = ev.When.Span()
	add := func(name, email string) {
		email = strings.TrimSpace(email)
		if email == "" && name == "" {
			return
		}
		for i, p := range m.Participants {
			if email != "" && strings.EqualFold(p.Email, email) {
				if p.Name == "" {
					m.Participants[i].Name = name
				}
				return
			}
		}
		m.Participants = append(m.Participants, store.Participant{Name: strings.TrimSpace(name), Email: email})
	}
	add(ev.Organizer.Name, ev.Organizer.Email)
	for _, p := range ev.Participants {
		add(p.Name, p.Email)
	}
	return m
}

// meetingOfBooking is the meeting a Scheduler booking describes.
func meetingOfBooking(b *store.Booking) store.Meeting {
	return store.Meeting{Title: b.Title, StartsAt: b.Start.UTC(), EndsAt: b.End.UTC(),
		Participants: append([]store.Participant(nil), b.Participants...), Source: "booking"}
}

// index asks the search index, when there is one, to re-read a meeting; a
// failure is logged: the index is rebuilt from the archive at start-up and
// by `notekeeper reindex`, so it never blocks an archive.
func (a *Archiver) index(id string) {
	if a.Index == nil {
		return
	}
	if err := a.Index.Update(id); err != nil {
		a.Logger.Warn("search index not updated", slog.String("notetaker", id), slog.Any("error", err))
	}
}

// Backfill describes archived meetings whose metadata is not settled yet
// (archived before notekeeper kept it, or whose calendar event could not be
// read), at most backfillPerRun per call, and re-indexes each. The sweep
// calls it; `notekeeper reindex` calls it with no limit (limit ≤ 0).
func (a *Archiver) Backfill(ctx context.Context, limit int) (int, error) {
	all, err := a.DB.Notetakers()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, nt := range all {
		if limit > 0 && n >= limit {
			break
		}
		if !nt.ArchiveDone || !nt.Meeting.DescribedAt.IsZero() || !archive.SafeID(nt.ID) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if _, err := a.describe(ctx, nt); err != nil {
			return n, err
		}
		a.index(nt.ID)
		n++
	}
	if n > 0 {
		a.Logger.Info("meeting metadata backfilled", slog.Int("meetings", n))
	}
	return n, nil
}

// calendarEvent is nt's calendar event as the CRM delivery reads it: the
// one the archiver fetched and kept (Meeting.Source "event": its title,
// times and participants, the organizer among them; an all-day event's
// day reads as a timespan from midnight), else fetched now. Errors are
// GetEvent's.
func calendarEvent(ctx context.Context, client *nylas.Client, nt *store.Notetaker) (*nylas.Event, error) {
	if nt.Meeting.Source == "event" {
		ev := &nylas.Event{ID: nt.Event.EventID, GrantID: nt.GrantID, ICalUID: nt.Event.ICalUID, Title: nt.Meeting.Title}
		if !nt.Meeting.StartsAt.IsZero() {
			ev.When.Object, ev.When.StartTime = "timespan", nt.Meeting.StartsAt.Unix()
		}
		if !nt.Meeting.EndsAt.IsZero() {
			ev.When.EndTime = nt.Meeting.EndsAt.Unix()
		}
		for _, p := range nt.Meeting.Participants {
			ev.Participants = append(ev.Participants, nylas.Participant{Name: p.Name, Email: p.Email})
		}
		return ev, nil
	}
	return client.GetEvent(ctx, nt.GrantID, nt.Event.EventID, cmp.Or(nt.Event.CalendarID, "primary"))
}
