package appliance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/outbound"
	"github.com/notekeeper/notekeeper/store"
)

// ATS keeps interviews booked through Nylas Scheduler in step in the ATS
// behind Conn (docs/connectors.md, docs/ats.md), exactly once whatever crashes, retries and
// redeliveries happen:
//
//   - the candidate and their application are found once and kept in the
//     booking's store.ATSDelivery; a rebooking of the same e-mail reuses the
//     earlier booking's candidate; a candidate the ATS does not know is never
//     created: the booking is kept as unmatched and alerted once;
//   - every create is preceded by a persisted intent and followed by the
//     vendor's ID; a run that finds an intent without an ID asks the
//     connector's Find method (after its SearchLag) before creating again;
//   - each run compares the booking with what the ATS was last told and sends
//     only the difference: the times when they moved, the cancellation once;
//     where the API cannot write the interview the change becomes a note;
//   - an archived meeting adds one note, written once the archive is complete.
type ATS struct {
	DB    *store.DB
	Nylas *nylas.Client // for the event, when a booking names no external participant
	// Conn is the ATS ([ats] type); main builds it. Only delivery needs it:
	// an ATS without one (ops' replay) just enqueues.
	Conn            connector.ATS
	InternalDomains []string
	Links           *links.Signer
	DataDir         string
	Logger          *slog.Logger
	Now             func() time.Time // default time.Now

}

func (a *ATS) conn() connector.ATS { return a.Conn }

func (a *ATS) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *ATS) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// ScheduleBooking is the Records hook for a changed booking.
func (a *ATS) ScheduleBooking(_ context.Context, b *store.Booking) error {
	return a.DB.Enqueue(store.TaskRef{Kind: store.TaskATS, Subject: b.ID})
}

// fail names the connector in an error (the dead letter's alert shows it).
func (a *ATS) fail(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", a.conn().Name(), err)
}

func (a *ATS) handleBooking(ctx context.Context, t *store.Task) error {
	b, err := a.DB.Booking(t.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	d, ok, err := a.resolve(ctx, b)
	if err != nil || !ok {
		return a.fail(err)
	}
	return a.fail(a.syncInterview(ctx, b, d))
}

// delivery reads the booking's delivery state, zero when there is none.
func (a *ATS) delivery(bookingID string) (*store.ATSDelivery, error) {
	d, err := a.DB.ATSDelivery(bookingID)
	if errors.Is(err, store.ErrNotFound) {
		return &store.ATSDelivery{BookingID: bookingID, Notes: map[string]store.ATSRecord{}}, nil
	}
	return d, err
}

// resolve returns the booking's delivery state with its candidate found
// (ok), or keeps the booking as unmatched and alerts once (not ok, nil
// error).
func (a *ATS) resolve(ctx context.Context, b *store.Booking) (*store.ATSDelivery, bool, error) {
	d, err := a.delivery(b.ID)
	if err != nil {
		return nil, false, err
	}
	if d.Connector != "" && d.Connector != a.conn().Name() {
		// [ats] type changed: what the old ATS holds means nothing to this one.
		if d, err = a.DB.UpdateATSDelivery(b.ID, func(d *store.ATSDelivery) error {
			*d = store.ATSDelivery{BookingID: d.BookingID, Notes: map[string]store.ATSRecord{}}
			return nil
		}); err != nil {
			return nil, false, err
		}
	}
	if d.Matched {
		return d, true, nil
	}
	name, email, err := a.candidateOf(ctx, b)
	if err != nil {
		return nil, false, err
	}
	prev, err := a.previousBooking(b, email)
	if err != nil {
		return nil, false, err
	}
	var cand connector.Candidate
	found := false
	if prev != "" { // a rebooking: the same candidate as before
		if pd, err := a.DB.ATSDelivery(prev); err == nil && pd.Matched && pd.Connector == a.conn().Name() {
			cand, found = connector.Candidate(pd.Candidate), true
		}
	}
	if !found && email != "" {
		cand, err = a.conn().FindCandidate(ctx, email)
		switch {
		case errors.Is(err, connector.ErrNoCandidate):
		case err != nil:
			return nil, false, err
		default:
			found = true
		}
	}
	if found {
		cand.Email = cmp.Or(cand.Email, email)
		cand.Name = cmp.Or(cand.Name, name)
		d, err = a.DB.UpdateATSDelivery(b.ID, func(d *store.ATSDelivery) error {
			d.Connector, d.Matched, d.Unmatched = a.conn().Name(), true, false
			d.Candidate, d.PreviousBooking, d.CheckedAt = store.ATSCandidate(cand), prev, a.now()
			return nil
		})
		return d, err == nil, err
	}
	d, err = a.DB.UpdateATSDelivery(b.ID, func(d *store.ATSDelivery) error {
		d.Connector, d.Unmatched, d.CheckedAt = a.conn().Name(), true, a.now()
		d.Candidate, d.PreviousBooking = store.ATSCandidate{Name: name, Email: email}, prev
		return nil
	})
	if err != nil || d.Alerted {
		return nil, false, err
	}
	who := cmp.Or(email, "no external participant")
	msg := fmt.Sprintf("%s: booking %s: the ATS knows no candidate with an active application at %s; nothing was created. "+
		"Add the candidate (with an active application) in the ATS: the booking is looked up again on its next notification or a replay", a.conn().Name(), b.ID, who)
	if _, err := a.DB.RaiseAlert(store.Alert{Kind: store.AlertDeliveryFailed, Subject: b.ID, Message: msg}); err != nil {
		return nil, false, err
	}
	a.logger().Warn("ats candidate unmatched", slog.String("booking", b.ID), slog.String("email", email))
	_, err = a.DB.UpdateATSDelivery(b.ID, func(d *store.ATSDelivery) error { d.Alerted = true; return nil })
	return nil, false, err
}

// interviewOf is the booking as the connector sees it.
func (a *ATS) interviewOf(b *store.Booking, d *store.ATSDelivery) *connector.Interview {
	iv := &connector.Interview{BookingID: b.ID, EventID: b.EventID, PreviousBookingID: d.PreviousBooking,
		ConfigurationID: b.ConfigurationID, Title: b.Title,
		Candidate: connector.Attendee{Name: d.Candidate.Name, Email: d.Candidate.Email},
		Start:     b.Start, End: b.End, MeetingLink: b.Location, Status: "scheduled"}
	if b.Status == "cancelled" {
		iv.Status = "cancelled"
	}
	for _, p := range b.Participants {
		if e, external := externalAddress(p.Email, a.InternalDomains); !external && e != "" {
			iv.Interviewers = append(iv.Interviewers, connector.Attendee{Name: p.Name, Email: e})
		}
	}
	if len(iv.Interviewers) > 0 {
		iv.Organizer = iv.Interviewers[0]
	}
	return iv
}

// syncInterview brings the ATS's interview in step with the booking.
func (a *ATS) syncInterview(ctx context.Context, b *store.Booking, d *store.ATSDelivery) error {
	c, iv := connector.Candidate(d.Candidate), a.interviewOf(b, d)
	conn := a.conn()
	if !d.Interview.Done {
		if !d.Interview.Pending() && !d.Notes["scheduled"].Pending() {
			// Told is what the create about to be sent carries. A create
			// whose answer is lost may have landed: a later run resolves it
			// (found by search, or answered again for its Idempotency-Key
			// without being applied) as it was first sent, whatever the
			// booking says by then, so Told keeps the first create's times
			// and a move made in between is still sent below.
			if _, err := a.DB.UpdateATSDelivery(b.ID, func(d *store.ATSDelivery) error {
				d.Told = store.ATSTold{Start: b.Start, End: b.End, Status: "scheduled"}
				return nil
			}); err != nil {
				return err
			}
		}
		rec, err := a.ensure(ctx, b.ID, interviewKey,
			func() (string, error) { return conn.FindInterview(ctx, c, iv) },
			func() (string, error) { return conn.CreateInterview(ctx, c, iv) })
		if errors.Is(err, connector.ErrNotSupported) {
			rec, err = a.note(ctx, b.ID, c, "scheduled", connector.FormatStatus(iv, "scheduled", connector.Marker(b.ID, "scheduled")))
			rec.AsNote = true
			if err == nil {
				_, err = a.DB.UpdateATSDelivery(b.ID, func(d *store.ATSDelivery) error { d.Interview = rec; return nil })
			}
		}
		if err != nil {
			return err
		}
		if d, err = a.delivery(b.ID); err != nil {
			return err
		}
	}
	if d.Told.Status != "cancelled" && (!b.Start.Equal(d.Told.Start) || !b.End.Equal(d.Told.End)) {
		if err := a.change(ctx, b, d, c, iv, "rescheduled", conn.UpdateInterview); err != nil {
			return err
		}
		var err error
		if d, err = a.DB.UpdateATSDelivery(b.ID, func(d *store.ATSDelivery) error {
			d.Told.Start, d.Told.End = b.Start, b.End
			return nil
		}); err != nil {
			return err
		}
	}
	if b.Status == "cancelled" && d.Told.Status != "cancelled" {
		if err := a.change(ctx, b, d, c, iv, "cancelled", conn.CancelInterview); err != nil {
			return err
		}
		_, err := a.DB.UpdateATSDelivery(b.ID, func(d *store.ATSDelivery) error { d.Told.Status = "cancelled"; return nil })
		return err
	}
	return nil
}

// change moves or cancels the interview through write, or writes a note
// saying so when the interview lives as notes or the API cannot write it.
func (a *ATS) change(ctx context.Context, b *store.Booking, d *store.ATSDelivery, c connector.Candidate, iv *connector.Interview,
	kind string, write func(context.Context, connector.Candidate, string, *connector.Interview) error) error {
	if !d.Interview.AsNote {
		err := write(ctx, c, d.Interview.ID, iv)
		if !errors.Is(err, connector.ErrNotSupported) {
			return err
		}
		a.logger().Info("ats interview not writable; adding a note", slog.String("booking", b.ID), slog.String("change", kind))
	}
	key := kind
	if kind == "rescheduled" {
		key = "rescheduled/" + strconv.FormatInt(b.Start.Unix(), 10)
	}
	_, err := a.note(ctx, b.ID, c, key, connector.FormatStatus(iv, kind, connector.Marker(b.ID, strings.ReplaceAll(key, "/", "-"))))
	return err
}

// note writes the note under key once; text ends with its marker line.
func (a *ATS) note(ctx context.Context, bookingID string, c connector.Candidate, key, text string) (store.ATSRecord, error) {
	marker := text[strings.LastIndexByte(text, '\n')+1:]
	return a.ensure(ctx, bookingID, key,
		func() (string, error) { return a.conn().FindNote(ctx, c, marker) },
		func() (string, error) { return a.conn().CreateNote(ctx, c, marker, text) })
}

// interviewKey names the interview in ensure; every other key is a note's.
const interviewKey = ""

// ensure creates the record under key exactly once: it persists the intent,
// creates, and persists the answered ID. A record found pending (an earlier
// run died between intent and answer) is looked for with find first, once
// the connector's SearchLag has passed since the intent.
func (a *ATS) ensure(ctx context.Context, bookingID, key string, find, create func() (string, error)) (store.ATSRecord, error) {
	get := func(d *store.ATSDelivery) store.ATSRecord {
		if key == interviewKey {
			return d.Interview
		}
		return d.Notes[key]
	}
	put := func(rec store.ATSRecord) (*store.ATSDelivery, error) {
		return a.DB.UpdateATSDelivery(bookingID, func(d *store.ATSDelivery) error {
			if key == interviewKey {
				d.Interview = rec
			} else {
				d.Notes[key] = rec
			}
			return nil
		})
	}
	d, err := a.delivery(bookingID)
	if err != nil {
		return store.ATSRecord{}, err
	}
	rec := get(d)
	if rec.Done {
		return rec, nil
	}
	if rec.Pending() {
		id, err := find()
		if err != nil {
			return rec, err
		}
		if id != "" {
			rec = store.ATSRecord{ID: id, Done: true}
			_, err := put(rec)
			return rec, err
		}
		if wait := rec.IntentAt.Add(a.conn().SearchLag()).Sub(a.now()); wait > 0 {
			return rec, apperr.Later(wait, "an interrupted create may not be searchable yet")
		}
	}
	rec = store.ATSRecord{IntentAt: a.now()}
	if _, err := put(rec); err != nil {
		return rec, err
	}
	id, err := create()
	if err != nil {
		if refused(err) {
			put(store.ATSRecord{}) // nothing was created: no intent to resolve
		}
		return rec, err
	}
	rec = store.ATSRecord{ID: id, Done: true}
	_, err = put(rec)
	return rec, err
}

// refused reports whether err says the ATS turned the create down, so that
// nothing can have been created: ErrNotSupported or a 4xx answer. A timeout,
// a cut connection or a 5xx may have landed and leave the intent to resolve.
func refused(err error) bool {
	var se *outbound.StatusError
	return errors.Is(err, connector.ErrNotSupported) || (errors.As(err, &se) && se.Code >= 400 && se.Code < 500 && se.Code != 408)
}

// previousBooking finds an earlier booking of the same candidate (a
// rebooking after a cancel), "" when none.
func (a *ATS) previousBooking(b *store.Booking, email string) (string, error) {
	if email == "" {
		return "", nil
	}
	bs, err := a.DB.Bookings()
	if err != nil {
		return "", err
	}
	prev := ""
	var prevAt time.Time
	for _, o := range bs {
		if o.ID == b.ID || !o.FirstSeen.Before(b.FirstSeen) {
			continue
		}
		if _, e := candidate(o.Participants, a.InternalDomains); e == email && o.FirstSeen.After(prevAt) {
			prev, prevAt = o.ID, o.FirstSeen
		}
	}
	return prev, nil
}

// candidateOf is the first booking participant outside the internal
// domains, else the first such participant of the calendar event (read with
// the grant of the booking's Notetaker, when one is known).
func (a *ATS) candidateOf(ctx context.Context, b *store.Booking) (string, string, error) {
	if name, email := candidate(b.Participants, a.InternalDomains); email != "" || a.Nylas == nil || b.EventID == "" {
		return name, email, nil
	}
	nt, err := a.DB.Notetaker(b.NotetakerID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && nt.GrantID == "") || b.NotetakerID == "" {
		return "", "", nil
	} else if err != nil {
		return "", "", err
	}
	ev, err := a.Nylas.GetEvent(ctx, nt.GrantID, b.EventID, cmp.Or(b.OrganizerCalendarID, "primary"))
	if errors.Is(err, nylas.ErrNotFound) {
		return "", "", nil
	} else if err != nil {
		return "", "", err
	}
	ps := make([]store.Participant, len(ev.Participants))
	for i, p := range ev.Participants {
		ps[i] = store.Participant{Email: p.Email, Name: p.Name}
	}
	name, email := candidate(ps, a.InternalDomains)
	return name, email, nil
}

// candidate is the first participant outside the internal domains.
func candidate(ps []store.Participant, internal []string) (name, email string) {
	for _, p := range ps {
		if e, ok := externalAddress(p.Email, internal); ok {
			return p.Name, e
		}
	}
	return "", ""
}

// handleRecording adds a booked meeting's notes to the ATS, once, when its
// archive is complete (cancelled bookings too): the content is final when
// written, since some ATSs (Greenhouse) cannot edit a note.
func (a *ATS) handleRecording(ctx context.Context, t *store.Task) error {
	nt, err := archivedNotetaker(a.DB, t.Subject)
	if nt == nil || err != nil {
		return err
	}
	b, err := bookingOf(a.DB, nt)
	if err != nil || b == nil {
		return err
	}
	d, ok, err := a.resolve(ctx, b)
	if err != nil || !ok {
		return a.fail(err)
	}
	key := store.ATSNoteKey(nt.ID)
	if d.Notes[key].Done {
		return nil
	}
	n, err := a.meetingNotes(nt, b)
	if err != nil {
		return err
	}
	c, conn, marker := connector.Candidate(d.Candidate), a.conn(), connector.NotesMarker(nt.ID)
	create := func() (string, error) { return conn.CreateNote(ctx, c, marker, connector.FormatNotes(n, marker)) }
	if w, ok := conn.(connector.MeetingNotesWriter); ok {
		create = func() (string, error) { return w.CreateMeetingNotes(ctx, c, n) }
	}
	if _, err := a.ensure(ctx, b.ID, key, func() (string, error) { return conn.FindNote(ctx, c, marker) }, create); err != nil {
		return a.fail(err)
	}
	if fw, ok := conn.(connector.FileWriter); ok && n.Transcript != "" {
		name := "notekeeper-" + nt.ID + "-transcript.txt"
		_, err := a.ensure(ctx, b.ID, "transcript/"+nt.ID,
			func() (string, error) { return fw.FindFile(ctx, c, name) },
			func() (string, error) { return fw.CreateFile(ctx, c, name, "text/plain", []byte(n.Transcript)) })
		return a.fail(err)
	}
	return nil
}

// meetingNotes reads an archived meeting's notes from its media folder; its
// links are this appliance's signed /files links.
func (a *ATS) meetingNotes(nt *store.Notetaker, b *store.Booking) (*connector.MeetingNotes, error) {
	dir, err := archive.MediaDir(a.DataDir, nt.ID)
	if err != nil {
		return nil, apperr.Permanent(err)
	}
	read := func(kind string) []byte {
		if f, ok := nt.Archived[kind]; ok {
			b, _ := os.ReadFile(filepath.Join(dir, f.Name))
			return b
		}
		return nil
	}
	n := &connector.MeetingNotes{BookingID: b.ID, EventID: b.EventID, NotetakerID: nt.ID, Title: b.Title,
		ActionItems: []string{}, ProcessedAt: a.now()}
	if f, ok := nt.Archived["recording"]; ok && a.Links != nil {
		n.RecordingURL = a.Links.URL(nt.ID, f.Name)
	}
	if txt, err := os.ReadFile(filepath.Join(dir, "transcript.txt")); err == nil {
		n.Transcript = string(txt)
		if a.Links != nil {
			n.TranscriptURL = a.Links.URL(nt.ID, "transcript.txt")
		}
	}
	if s := read("summary"); s != nil {
		n.Summary = archive.ParseSummary(s)
	}
	if ai := archive.ParseActionItems(read("action_items")); ai != nil {
		n.ActionItems = ai
	}
	return n, nil
}
