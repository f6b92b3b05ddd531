package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/envelope"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/store"
)

// Records keeps the store's picture of Notetakers, bookings and grants up to
// date: its handlers merge every notification a task refers to into the
// subject's record. Merges are idempotent and ordered by the envelope time,
// so a redelivery, a replay or a late, older notification changes nothing it
// should not.
//
// After a Notetaker's record changes, AfterNotetaker (when set) is called
// with the new record: the archiver uses it to schedule downloads. It runs
// after the record is committed and again if the task is replayed, so it
// must be idempotent.
//
// AfterBooking, likewise, is called with a changed booking (the ATS).
type Records struct {
	DB             *store.DB
	Logger         *slog.Logger
	AfterNotetaker func(ctx context.Context, nt *store.Notetaker) error
	AfterBooking   func(ctx context.Context, b *store.Booking) error
}

// notice is one referenced notification, parsed, with its typed object.
type notice[T any] struct {
	seq      uint64
	env      *envelope.Envelope
	base     string
	obj      *T
	received time.Time
}

// load reads the notifications a task refers to, in arrival order, and
// decodes each one's data.object into a T. A notification that is gone
// (pruned) or has no object is skipped; one that no longer parses is a
// permanent failure.
func load[T any](db *store.DB, t *store.Task) ([]notice[T], error) {
	out := make([]notice[T], 0, len(t.Refs))
	for _, seq := range t.Refs {
		n, err := db.Notification(seq)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		env, err := envelope.Parse(n.Body)
		if err != nil {
			return nil, apperr.Permanent(fmt.Errorf("notification %d: %w", seq, err))
		}
		if env.Object == nil {
			continue
		}
		obj, err := envelope.DecodeObject[T](n.Body)
		if err != nil {
			return nil, apperr.Permanent(fmt.Errorf("notification %d: %w", seq, err))
		}
		out = append(out, notice[T]{seq: seq, env: env, base: envelope.BaseType(env.Type), obj: obj, received: n.ReceivedAt})
	}
	return out, nil
}

// merge loads a task's notifications with objects of type T and applies
// each, in order, to the subject's record R in one update, returning the
// updated record.
func merge[T, R any](db *store.DB, t *store.Task, update func(string, func(*R) error) (*R, error), apply func(*R, notice[T])) (*R, error) {
	notices, err := load[T](db, t)
	if err != nil {
		return nil, err
	}
	return update(t.Subject, func(rec *R) error {
		for _, n := range notices {
			apply(rec, n)
		}
		return nil
	})
}

func (r *Records) handleNotetaker(ctx context.Context, t *store.Task) error {
	nt, err := merge(r.DB, t, r.DB.UpdateNotetaker, applyNotetaker)
	if err != nil {
		return err
	}
	if nt.State == "failed_entry" {
		msg := "the Notetaker bot could not join the meeting (" + meetingStateText(nt.MeetingState) + ")"
		if _, err := r.DB.RaiseAlert(store.Alert{Kind: store.AlertFailedEntry, Subject: nt.ID, Message: msg}); err != nil {
			return err
		}
	}
	if r.AfterNotetaker != nil {
		return r.AfterNotetaker(ctx, nt)
	}
	return nil
}

func (r *Records) handleBooking(ctx context.Context, t *store.Task) error {
	b, err := merge(r.DB, t, r.DB.UpdateBooking, applyBooking)
	if err != nil || r.AfterBooking == nil {
		return err
	}
	return r.AfterBooking(ctx, b)
}

func (r *Records) handleGrant(_ context.Context, t *store.Task) error {
	g, err := merge(r.DB, t, r.DB.UpdateGrant, applyGrant)
	if err != nil {
		return err
	}
	if g.Expired {
		msg := "grant " + g.ID + " expired"
		if g.Email != "" {
			msg += " (" + g.Email + "): its owner must re-authenticate"
		}
		if _, err := r.DB.RaiseAlert(store.Alert{Kind: store.AlertGrantExpired, Subject: g.ID, Message: msg}); err != nil {
			return err
		}
	}
	return nil
}

// meetingStateText explains a failed_entry meeting_state to a person.
func meetingStateText(s string) string {
	switch s {
	case "admission_timeout", "no_response":
		return s + ": the bot waited in the lobby and nobody let it in"
	case "entry_denied":
		return s + ": someone refused to let the bot in"
	case "bad_meeting_code", "bad_meeting_link":
		return s + ": the meeting link is wrong"
	case "sign_in_required":
		return s + ": the meeting requires signed-in participants"
	case "meeting_capacity_reached":
		return s + ": the meeting is full"
	case "":
		return "no reason given"
	}
	return s
}

// applyNotetaker merges one notification into nt.
func applyNotetaker(nt *store.Notetaker, n notice[nylas.NotetakerObject]) {
	o := n.obj
	if slices.Contains(nt.Seqs, n.seq) {
		return // already applied
	}
	nt.Seqs = append(nt.Seqs, n.seq)
	// Descriptive fields: the newest notification wins, older ones fill gaps.
	set := fill
	if n.env.Time >= max(nt.StateAt, nt.MediaAt) {
		set = overwrite
	}
	set(&nt.GrantID, o.GrantID)
	set(&nt.MeetingProvider, o.MeetingProvider)
	set(&nt.MeetingLink, o.MeetingLink)
	set(&nt.Event.EventID, o.Event.EventID)
	set(&nt.Event.ICalUID, o.Event.ICalUID)
	set(&nt.Event.MasterEventID, o.Event.MasterEventID)
	set(&nt.Event.CalendarID, o.CalendarID)
	if o.JoinTime > 0 && (nt.JoinTime.IsZero() || n.env.Time >= max(nt.StateAt, nt.MediaAt)) {
		nt.JoinTime = time.Unix(o.JoinTime, 0).UTC()
	}
	switch n.base {
	case "notetaker.deleted":
		nt.Deleted = true
	case "notetaker.media":
		// Here state is the media's state, not the bot's.
		if s := o.CurrentState(); s != "" && n.env.Time >= nt.MediaAt {
			nt.MediaStatus, nt.MediaAt = nylas.MediaStatus(s), n.env.Time
		}
		if o.Media != nil && o.Media.RetainedUntil > 0 {
			nt.RetainedUntil = time.Unix(o.Media.RetainedUntil, 0).UTC()
			nt.DeletesAt = nt.RetainedUntil
		}
		if nylas.MediaStatus(o.CurrentState()) == "available" {
			// Links die 60 minutes after they were minted: date them by the
			// earlier of the envelope time and our receipt, to be safe.
			minted := n.received
			if n.env.Time > 0 && time.Unix(n.env.Time, 0).Before(minted) {
				minted = time.Unix(n.env.Time, 0).UTC()
			}
			if urls := o.MediaURLs(); len(urls) > 0 && !minted.Before(nt.Media.FetchedAt) {
				// A repeated available notification may carry only some
				// kinds: merge, newest link per kind wins.
				if nt.Media.URLs == nil {
					nt.Media.URLs = map[string]string{}
				}
				maps.Copy(nt.Media.URLs, urls)
				for kind := range urls {
					if _, ok := nt.Archived[kind]; !ok {
						nt.ArchiveDone = false // a kind not archived yet: archive again
					}
				}
				fill(&nt.Media.Format, o.Media.RecordingFileFormat)
				nt.Media.FetchedAt, nt.Media.Source = minted, "webhook"
			}
			if nt.AvailableAt.IsZero() {
				nt.AvailableAt = minted
			}
		}
	default: // created, updated, meeting_state
		if s := o.CurrentState(); s != "" && n.env.Time >= nt.StateAt {
			nt.State, nt.StateAt = s, n.env.Time
			if n.base == "notetaker.meeting_state" || o.MeetingState != "" {
				nt.MeetingState = o.MeetingState
			}
		}
	}
}

// applyBooking merges one notification into b: a notification at least as
// new as the last one that set the status overwrites what it carries; an
// older one only fills gaps (a cancel that overtook its create stays
// cancelled).
func applyBooking(b *store.Booking, n notice[nylas.BookingObject]) {
	o := n.obj
	if slices.Contains(b.Seqs, n.seq) {
		return
	}
	b.Seqs = append(b.Seqs, n.seq)
	newer := n.env.Time >= b.StateAt
	set := fill
	if newer {
		set = overwrite
	}
	info := &o.BookingInfo
	set(&b.ConfigurationID, o.ConfigurationID)
	set(&b.EventID, info.EventID)
	set(&b.ICalUID, info.ICalUID)
	set(&b.NotetakerID, info.NotetakerID)
	set(&b.Title, info.Title)
	set(&b.Location, info.Location)
	set(&b.OrganizerCalendarID, info.OrganizerCalendarID)
	set(&b.OrganizerTimezone, info.OrganizerTimezone)
	set(&b.CancellationReason, info.CancellationReason)
	// Only a creation or a reschedule sets the times: a cancellation (or a
	// reminder) does not move the interview, whatever times it carries.
	moves := newer && (n.base == "booking.created" || n.base == "booking.rescheduled")
	if info.StartTime > 0 && (moves || b.Start.IsZero()) {
		b.Start = time.Unix(info.StartTime, 0).UTC()
	}
	if info.EndTime > 0 && (moves || b.End.IsZero()) {
		b.End = time.Unix(info.EndTime, 0).UTC()
	}
	if len(info.Participants) > 0 && (newer || len(b.Participants) == 0) {
		b.Participants = b.Participants[:0]
		for _, p := range info.Participants {
			b.Participants = append(b.Participants, store.Participant{Email: strings.ToLower(p.Email), Name: p.Name})
		}
	}
	status := strings.TrimPrefix(n.base, "booking.")
	if status == "reminder" {
		return // a reminder says nothing about the booking's state
	}
	if newer || b.Status == "" {
		b.Status = status
		b.StateAt = max(b.StateAt, n.env.Time)
	}
}

// applyGrant merges one notification into g: grant.expired marks it expired,
// grant.updated with re-authentication clears that, grant.deleted marks it
// deleted. Only a notification at least as new as the last change counts.
func applyGrant(g *store.Grant, n notice[nylas.GrantObject]) {
	o := n.obj
	if slices.Contains(g.Seqs, n.seq) {
		return
	}
	g.Seqs = append(g.Seqs, n.seq)
	fill(&g.Provider, o.Provider)
	fill(&g.Email, o.Email)
	if n.env.Time < g.StateAt {
		return
	}
	switch n.base {
	case "grant.expired":
		g.Expired, g.ExpiredAt, g.StateAt = true, time.Unix(n.env.Time, 0).UTC(), n.env.Time
	case "grant.updated":
		if o.ReauthenticationFlag {
			g.Expired, g.StateAt = false, n.env.Time
		}
	case "grant.deleted":
		g.Deleted, g.StateAt = true, n.env.Time
	}
}

// fill sets *dst to v when *dst is empty and v is not.
func fill(dst *string, v string) {
	if *dst == "" && v != "" {
		*dst = v
	}
}

// overwrite sets *dst to v when v is not empty.
func overwrite(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}
