package appliance

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/outbound"
	"github.com/notekeeper/notekeeper/store"
)

// ATS keeps interviews booked through Nylas Scheduler in step in the ATS
// through its REST contract. It converges: each run compares the booking with what the ATS
// was last told and sends only the difference — a POST once, then a PATCH
// of the times when they moved and a PATCH of the status when it was
// cancelled — so redeliveries, replays and out-of-order notifications never
// duplicate anything.
type ATS struct {
	DB              *store.DB
	Nylas           *nylas.Client // for the event, when a booking names no external participant
	API             *outbound.Client
	InterviewsPath  string
	RecordingsPath  string
	InternalDomains []string
	Links           *links.Signer
	DataDir         string
	Logger          *slog.Logger
}

type atsInterview struct {
	BookingID         string `json:"booking_id"`
	EventID           string `json:"event_id"`
	CandidateName     string `json:"candidate_name"`
	CandidateEmail    string `json:"candidate_email"`
	StartTime         string `json:"start_time"`
	EndTime           string `json:"end_time"`
	MeetingLink       string `json:"meeting_link"`
	Status            string `json:"status"`
	PreviousBookingID string `json:"previous_booking_id,omitempty"` // a rebooking after a cancel
}

type atsRecording struct {
	BookingID    string   `json:"booking_id"`
	EventID      string   `json:"event_id"`
	NotetakerID  string   `json:"notetaker_id"`
	RecordingURL string   `json:"recording_url"`
	Transcript   string   `json:"transcript"`
	Summary      string   `json:"summary"`
	ActionItems  []string `json:"action_items"`
	ProcessedAt  string   `json:"processed_at"`
}

// ScheduleBooking is the Records hook for a changed booking.
func (a *ATS) ScheduleBooking(_ context.Context, b *store.Booking) error {
	return a.DB.Enqueue(store.TaskRef{Kind: store.TaskATS, Subject: b.ID})
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (a *ATS) handleBooking(ctx context.Context, t *store.Task) error {
	b, err := a.DB.Booking(t.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	st, err := a.DB.ATSDelivery(b.ID)
	if errors.Is(err, store.ErrNotFound) {
		st = &store.ATSDelivery{}
	} else if err != nil {
		return err
	}
	path := a.InterviewsPath + "/" + url.PathEscape(b.ID)
	if !st.Created {
		name, email, err := a.candidateOf(ctx, b)
		if err != nil {
			return err
		}
		iv := atsInterview{BookingID: b.ID, EventID: b.EventID, CandidateName: name, CandidateEmail: email,
			StartTime: rfc3339(b.Start), EndTime: rfc3339(b.End), MeetingLink: b.Location, Status: "scheduled"}
		if iv.PreviousBookingID, err = a.previousBooking(b, email); err != nil {
			return err
		}
		if err := a.API.Call(ctx, "POST", a.InterviewsPath, "notekeeper-ats-"+b.ID, iv, nil); err != nil {
			return err
		}
		st = &store.ATSDelivery{Created: true, Start: b.Start, End: b.End, Status: "scheduled", CandidateEmail: email, PreviousBooking: iv.PreviousBookingID}
		if err := a.DB.PutATSDelivery(b.ID, st); err != nil {
			return err
		}
	}
	if !b.Start.Equal(st.Start) || !b.End.Equal(st.End) {
		body := map[string]string{"start_time": rfc3339(b.Start), "end_time": rfc3339(b.End)}
		if err := a.API.Call(ctx, "PATCH", path, "notekeeper-ats-"+b.ID+"-times-"+body["start_time"], body, nil); err != nil {
			return err
		}
		st.Start, st.End = b.Start, b.End
		if err := a.DB.PutATSDelivery(b.ID, st); err != nil {
			return err
		}
	}
	if b.Status == "cancelled" && st.Status != "cancelled" {
		if err := a.API.Call(ctx, "PATCH", path, "notekeeper-ats-"+b.ID+"-cancelled", map[string]string{"status": "cancelled"}, nil); err != nil {
			return err
		}
		st.Status = "cancelled"
		return a.DB.PutATSDelivery(b.ID, st)
	}
	return nil
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

// handleRecording posts a booked meeting's recording, transcript, summary
// and action items to the ATS, once (cancelled bookings too).
func (a *ATS) handleRecording(ctx context.Context, t *store.Task) error {
	nt, err := a.DB.Notetaker(t.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	b, err := bookingOf(a.DB, nt)
	if err != nil || b == nil {
		return err
	}
	st, err := a.DB.ATSDelivery(b.ID)
	if errors.Is(err, store.ErrNotFound) {
		st = &store.ATSDelivery{}
	} else if err != nil {
		return err
	}
	if slices.Contains(st.Recordings, nt.ID) {
		return nil
	}
	dir, err := archive.MediaDir(a.DataDir, nt.ID)
	if err != nil {
		return apperr.Permanent(err)
	}
	read := func(kind string) []byte {
		if f, ok := nt.Archived[kind]; ok {
			b, _ := os.ReadFile(filepath.Join(dir, f.Name))
			return b
		}
		return nil
	}
	rec := atsRecording{BookingID: b.ID, EventID: b.EventID, NotetakerID: nt.ID, ActionItems: []string{},
		ProcessedAt: rfc3339(time.Now())}
	if f, ok := nt.Archived["recording"]; ok {
		rec.RecordingURL = a.Links.URL(nt.ID, f.Name)
	}
	if txt, err := os.ReadFile(filepath.Join(dir, "transcript.txt")); err == nil {
		rec.Transcript = string(txt)
	}
	if s := read("summary"); s != nil {
		rec.Summary = archive.ParseSummary(s)
	}
	if ai := archive.ParseActionItems(read("action_items")); ai != nil {
		rec.ActionItems = ai
	}
	if err := a.API.Call(ctx, "POST", a.RecordingsPath, "notekeeper-ats-rec-"+nt.ID, rec, nil); err != nil {
		return err
	}
	st.Recordings = append(st.Recordings, nt.ID)
	return a.DB.PutATSDelivery(b.ID, st)
}
