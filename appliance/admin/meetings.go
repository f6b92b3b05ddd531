package admin

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/store"
)

// meeting is one Notetaker as the meetings list and the detail page show it.
type meeting struct {
	ID       string
	Linkable bool // the ID is a safe path segment, so it has a detail page
	Title    string
	store.Notetaker
	Kinds    []kindState // offered or archived kinds, in archive order
	Archived int
	Deadline deadline
	Booking  *store.Booking
	CRM, ATS state
	// What a person reads (labels.go, list.go): when, who, what the bot
	// did, where the files are, and the delivery that applies (ATS for
	// an interview, CRM otherwise).
	StartsAt, EndsAt time.Time
	Participants     []store.Participant
	Bot, Media       state
	Delivery         state
	DeliveryTo       string // "CRM" or "ATS"
}

// kindState is one media kind of a meeting: offered by Nylas, archived or both.
type kindState struct {
	Kind     string
	Archived bool
}

// deadline is when Nylas deletes a meeting's media, relative to now.
type deadline struct {
	At     time.Time
	Left   string // "3d 4h", "" when unknown or passed
	Passed bool
	AtRisk bool // not fully archived and due within Config.AtRisk
}

// state is a short, classed label: ok, warn, bad or muted.
type state struct {
	Label, Class, Detail string
}

// index holds what the meeting rows of one page need from the task queue:
// the tasks they name, each read once by key (not the whole queue, which a
// backlog makes large).
type index struct {
	db    *store.DB
	tasks map[string]*store.Task // nil: no such task
}

func (h *Handler) loadIndex() (*index, error) {
	return &index{db: h.cfg.DB, tasks: map[string]*store.Task{}}, nil
}

// task is the task with key, nil when there is none.
func (ix *index) task(key string) (*store.Task, error) {
	if t, ok := ix.tasks[key]; ok {
		return t, nil
	}
	t, err := ix.db.Task(key)
	if errors.Is(err, store.ErrNotFound) {
		t, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	ix.tasks[key] = t
	return t, nil
}

// bookingOf finds the booking a meeting belongs to as the delivery does
// (store.BookingOf): the booking naming the Notetaker, else its event.
func (h *Handler) bookingOf(nt *store.Notetaker) (*store.Booking, error) {
	b, err := h.cfg.DB.BookingOf(nt.ID, nt.Event.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

// meeting builds the view of nt.
func (h *Handler) meeting(nt *store.Notetaker, ix *index) (*meeting, error) {
	m := &meeting{ID: nt.ID, Linkable: archive.SafeID(nt.ID), Notetaker: *nt}
	var err error
	if m.Booking, err = h.bookingOf(nt); err != nil {
		return nil, err
	}
	describeMeeting(m)
	for _, k := range archive.Kinds {
		_, archived := nt.Archived[k]
		if nt.Media.URLs[k] == "" && !archived {
			continue
		}
		m.Kinds = append(m.Kinds, kindState{Kind: k, Archived: archived})
		if archived {
			m.Archived++
		}
	}
	m.Deadline = h.deadlineOf(nt)
	if m.CRM, err = h.crmState(nt, m.Booking, ix); err != nil {
		return nil, err
	}
	if m.ATS, err = h.atsState(nt, m.Booking, ix); err != nil {
		return nil, err
	}
	m.Bot, m.Media = botState(nt), mediaState(nt, m.Archived, len(m.Kinds))
	m.Delivery, m.DeliveryTo = m.CRM, "CRM"
	if m.Booking != nil {
		m.Delivery, m.DeliveryTo = m.ATS, "ATS"
	}
	return m, nil
}

func (h *Handler) deadlineOf(nt *store.Notetaker) deadline {
	d := deadline{At: nt.DeletesAt}
	if d.At.IsZero() {
		return d
	}
	left := d.At.Sub(h.cfg.Now())
	if left <= 0 {
		d.Passed = true
		return d
	}
	d.Left = shortDuration(left)
	d.AtRisk = !nt.ArchiveDone && left < h.cfg.AtRisk
	return d
}

// taskState describes the live or dead task with key, if any.
func taskState(ix *index, key string) (state, bool) {
	t, err := ix.task(key)
	switch {
	case err != nil:
		return state{Label: "unknown", Class: "bad", Detail: err.Error()}, true
	case t == nil:
		return state{}, false
	case t.Dead:
		return state{Label: "dead letter", Class: "bad", Detail: t.LastError}, true
	case t.Attempts > 0 && t.LastError != "":
		return state{Label: "retrying (attempt " + strconv.Itoa(t.Attempts) + ")", Class: "warn", Detail: t.LastError}, true
	}
	return state{Label: "queued", Class: "warn"}, true
}

// crmState is the meeting's CRM delivery: its task when one is queued or
// dead, else what the CRM was last told.
func (h *Handler) crmState(nt *store.Notetaker, b *store.Booking, ix *index) (state, error) {
	if s, ok := taskState(ix, store.TaskRef{Kind: store.TaskCRM, Subject: nt.ID}.Key()); ok {
		return s, nil
	}
	d, err := crmDelivery(h.cfg.DB, nt.ID)
	switch {
	case err != nil:
		return state{}, err
	case d != nil && d.RecordID != "":
		return state{Label: "delivered", Class: "ok", Detail: "record " + d.RecordID}, nil
	case d != nil && d.Skipped != "":
		return state{Label: "nothing to send", Class: "muted", Detail: d.Skipped}, nil
	case b != nil:
		return state{Label: "—", Class: "muted", Detail: "an interview: goes to the ATS"}, nil
	case neverJoined(nt):
		return nothingToDeliver, nil
	case !nt.ArchiveDone:
		return state{Label: "after the archive", Class: "muted", Detail: "sent once the media is archived"}, nil
	}
	return state{Label: "not yet", Class: "muted"}, nil
}

// atsState is the delivery of a booked meeting's recording to the ATS.
func (h *Handler) atsState(nt *store.Notetaker, b *store.Booking, ix *index) (state, error) {
	if b == nil {
		return state{Label: "—", Class: "muted", Detail: "no booking"}, nil
	}
	if s, ok := taskState(ix, store.TaskRef{Kind: store.TaskATSRecording, Subject: nt.ID}.Key()); ok {
		return s, nil
	}
	d, err := h.cfg.DB.ATSDelivery(b.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return state{}, err
	case d.Notes[store.ATSNoteKey(nt.ID)].Done:
		return state{Label: "delivered", Class: "ok", Detail: "interview " + b.ID + ", notes added"}, nil
	case neverJoined(nt):
		return nothingToDeliver, nil
	case d.Unmatched:
		return state{Label: "unmatched", Class: "warn", Detail: "the ATS knows no candidate at " + cmp.Or(d.Candidate.Email, "(no external participant)")}, nil
	case d.Interview.Done:
		return state{Label: "interview " + cmp.Or(d.Told.Status, "created"), Class: "muted", Detail: "notes not added yet"}, nil
	}
	return state{Label: "not yet", Class: "muted", Detail: "booking " + b.ID}, nil
}

// followupState is the meeting's follow-up e-mail ([followup]): its task
// when one is queued or dead, else what was recorded of the send.
func (h *Handler) followupState(nt *store.Notetaker, ix *index) (state, error) {
	if s, ok := taskState(ix, store.TaskRef{Kind: store.TaskFollowup, Subject: nt.ID}.Key()); ok {
		return s, nil
	}
	f, err := h.cfg.DB.Followup(nt.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if !nt.ArchiveDone {
			return state{Label: "after the archive", Class: "muted", Detail: "sent once the media is archived, when [followup] is enabled"}, nil
		}
		return state{Label: "none", Class: "muted", Detail: "[followup] is off, or the meeting was archived before it was enabled"}, nil
	case err != nil:
		return state{}, err
	case f.State == store.FollowupSent:
		return state{Label: "sent", Class: "ok", Detail: fmt.Sprintf("to %s, %s", strings.Join(f.To, ", "), f.SentAt.UTC().Format(time.RFC3339))}, nil
	case f.State == store.FollowupSkipped:
		return state{Label: "not sent", Class: "muted", Detail: f.Reason}, nil
	}
	return state{Label: "sending", Class: "warn", Detail: "to " + strings.Join(f.To, ", ")}, nil
}

// crmDelivery is the CRM record of Notetaker id, nil when nothing was
// delivered or attempted yet.
func crmDelivery(db *store.DB, id string) (*store.CRMDelivery, error) {
	d, err := db.CRMDelivery(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return d, err
}

// errUnknownMeeting is a well-formed ID the store does not know.
var errUnknownMeeting = apperr.Errorf(apperr.ENOTFOUND, "no such meeting")

// lookupMeeting validates id and reads its Notetaker; both a malformed and
// an unknown ID are ENOTFOUND.
func (h *Handler) lookupMeeting(id string) (*store.Notetaker, error) {
	if !archive.SafeID(id) {
		return nil, errUnknownMeeting
	}
	nt, err := h.cfg.DB.Notetaker(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUnknownMeeting
	}
	return nt, err
}

// shortDuration renders d as its two largest units: "13d 4h", "5h 10m", "12m".
func shortDuration(d time.Duration) string {
	days, hours, mins := int(d.Hours())/24, int(d.Hours())%24, int(d.Minutes())%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	}
	return fmt.Sprintf("%dm", max(mins, 1))
}
