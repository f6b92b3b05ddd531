// Package rest is the ATS connector for notekeeper's own REST contract
// (docs/connectors.md): POST {interviews_path} once per booking, PATCH
// {interviews_path}/{id} for moves and cancellations (id as the create
// answered it, else the booking ID), POST {recordings_path} per archived
// meeting. Every write carries an Idempotency-Key, which is how the receiving
// side deduplicates: the contract has no search, so the Find methods find
// nothing and an interrupted create is simply sent again with the same key.
package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/ats/internal/vendorhttp"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

// ATS speaks the rest contract through API (its BaseURL and bearer APIKey).
type ATS struct {
	API            *outbound.Client
	InterviewsPath string // default /api/interviews
	RecordingsPath string // default /api/interview-recordings
}

var (
	_ connector.ATS                = (*ATS)(nil)
	_ connector.MeetingNotesWriter = (*ATS)(nil)
)

// Name is "rest".
func (a *ATS) Name() string { return "rest" }

// SearchLag is 0: nothing is searched.
func (a *ATS) SearchLag() time.Duration { return 0 }

func (a *ATS) interviews() string {
	if a.InterviewsPath == "" {
		return "/api/interviews"
	}
	return a.InterviewsPath
}

func (a *ATS) recordings() string {
	if a.RecordingsPath == "" {
		return "/api/interview-recordings"
	}
	return a.RecordingsPath
}

// FindCandidate always succeeds: the receiving side matches the candidate by
// the e-mail each interview carries.
func (a *ATS) FindCandidate(_ context.Context, email string) (connector.Candidate, error) {
	return connector.Candidate{Email: email}, nil
}

// FindInterview finds nothing: the contract has no search; a create is
// deduplicated by its Idempotency-Key.
func (a *ATS) FindInterview(context.Context, connector.Candidate, *connector.Interview) (string, error) {
	return "", nil
}

type person struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

type interview struct {
	BookingID         string   `json:"booking_id"`
	EventID           string   `json:"event_id"`
	CandidateName     string   `json:"candidate_name"`
	CandidateEmail    string   `json:"candidate_email"`
	StartTime         string   `json:"start_time"`
	EndTime           string   `json:"end_time"`
	MeetingLink       string   `json:"meeting_link"`
	Status            string   `json:"status"`
	PreviousBookingID string   `json:"previous_booking_id,omitempty"`
	ConfigurationID   string   `json:"configuration_id,omitempty"`
	Organizer         *person  `json:"organizer,omitempty"`
	Interviewers      []person `json:"interviewers,omitempty"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// CreateInterview POSTs the interview and returns the id its answer names
// ("" when it names none).
func (a *ATS) CreateInterview(ctx context.Context, _ connector.Candidate, iv *connector.Interview) (string, error) {
	body := interview{BookingID: iv.BookingID, EventID: iv.EventID, CandidateName: iv.Candidate.Name,
		CandidateEmail: iv.Candidate.Email, StartTime: rfc3339(iv.Start), EndTime: rfc3339(iv.End),
		MeetingLink: iv.MeetingLink, Status: "scheduled", PreviousBookingID: iv.PreviousBookingID,
		ConfigurationID: iv.ConfigurationID}
	if iv.Organizer.Email != "" {
		body.Organizer = &person{iv.Organizer.Name, iv.Organizer.Email}
	}
	for _, p := range iv.Interviewers {
		body.Interviewers = append(body.Interviewers, person{p.Name, p.Email})
	}
	var out struct {
		ID json.RawMessage `json:"id"`
	}
	if err := a.API.Call(ctx, "POST", a.interviews(), "notekeeper-ats-"+iv.BookingID, body, &out); err != nil {
		return "", err
	}
	return vendorhttp.ID(out.ID), nil
}

func (a *ATS) path(id string, iv *connector.Interview) string {
	if id == "" {
		id = iv.BookingID
	}
	return a.interviews() + "/" + url.PathEscape(id)
}

// UpdateInterview PATCHes the new times.
func (a *ATS) UpdateInterview(ctx context.Context, _ connector.Candidate, id string, iv *connector.Interview) error {
	body := map[string]string{"start_time": rfc3339(iv.Start), "end_time": rfc3339(iv.End)}
	return a.API.Call(ctx, "PATCH", a.path(id, iv), "notekeeper-ats-"+iv.BookingID+"-times-"+body["start_time"], body, nil)
}

// CancelInterview PATCHes status "cancelled".
func (a *ATS) CancelInterview(ctx context.Context, _ connector.Candidate, id string, iv *connector.Interview) error {
	return a.API.Call(ctx, "PATCH", a.path(id, iv), "notekeeper-ats-"+iv.BookingID+"-cancelled",
		map[string]string{"status": "cancelled"}, nil)
}

// FindNote finds nothing (no search; see FindInterview).
func (a *ATS) FindNote(context.Context, connector.Candidate, string) (string, error) { return "", nil }

// CreateNote is not part of the contract: the rest side takes interviews
// and recordings only, and its interview writes never fall back to notes.
func (a *ATS) CreateNote(context.Context, connector.Candidate, string, string) (string, error) {
	return "", apperr.Permanent(errors.New("rest: the contract has no notes"))
}

type recording struct {
	BookingID     string   `json:"booking_id"`
	EventID       string   `json:"event_id"`
	NotetakerID   string   `json:"notetaker_id"`
	RecordingURL  string   `json:"recording_url"`
	TranscriptURL string   `json:"transcript_url,omitempty"`
	Transcript    string   `json:"transcript"`
	Summary       string   `json:"summary"`
	ActionItems   []string `json:"action_items"`
	ProcessedAt   string   `json:"processed_at"`
}

// CreateMeetingNotes POSTs the archived meeting to recordings_path.
func (a *ATS) CreateMeetingNotes(ctx context.Context, _ connector.Candidate, n *connector.MeetingNotes) (string, error) {
	body := recording{BookingID: n.BookingID, EventID: n.EventID, NotetakerID: n.NotetakerID,
		RecordingURL: n.RecordingURL, TranscriptURL: n.TranscriptURL, Transcript: n.Transcript,
		Summary: n.Summary, ActionItems: n.ActionItems, ProcessedAt: rfc3339(n.ProcessedAt)}
	if body.ActionItems == nil {
		body.ActionItems = []string{}
	}
	var out struct {
		ID json.RawMessage `json:"id"`
	}
	if err := a.API.Call(ctx, "POST", a.recordings(), "notekeeper-ats-rec-"+n.NotetakerID, body, &out); err != nil {
		return "", err
	}
	return vendorhttp.ID(out.ID), nil
}

// Probe reads {interviews_path}: only an answer that refuses the
// credentials (401/403) fails it — the contract defines no read, so a 404 or
// 405 still proves the server is there and took the key.
func (a *ATS) Probe(ctx context.Context) error {
	err := a.API.Call(ctx, "GET", a.interviews()+"?booking_id=notekeeper-probe", "", nil, nil)
	var se *outbound.StatusError
	if errors.As(err, &se) && !se.Unauthorized() && se.Code < 500 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("rest ats: %w", err)
	}
	return nil
}
