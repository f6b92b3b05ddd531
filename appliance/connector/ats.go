package connector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNoCandidate is returned by ATS.FindCandidate when the ATS knows no
// candidate (with an active application or opportunity) at the address.
// The delivery keeps such a booking as unmatched; it never creates one.
var ErrNoCandidate = errors.New("no candidate with an active application")

// ErrNotSupported is returned by the interview writes of an ATS whose public
// API cannot make that write (Greenhouse: an interview that is no longer
// scheduled). The delivery then writes a note saying what happened instead.
var ErrNotSupported = errors.New("the ATS API cannot write this interview")

// Attendee is a person on an interview.
type Attendee struct {
	Name  string
	Email string // lower case
}

// Interview is one booked interview as the delivery hands it to the ATS.
type Interview struct {
	BookingID         string // the Scheduler booking: the marker of the interview
	EventID           string // the calendar event behind the booking
	PreviousBookingID string // an earlier booking of the same candidate (a rebooking after a cancel)
	ConfigurationID   string // the Scheduler configuration the booking was made on
	Title             string
	Candidate         Attendee
	Organizer         Attendee   // the first internal participant
	Interviewers      []Attendee // every internal participant, the organizer first
	Start, End        time.Time
	MeetingLink       string
	Status            string // "scheduled" | "cancelled"
}

// Candidate is a person the ATS knows, with the application (Lever: the
// opportunity) the interview belongs to.
type Candidate struct {
	ID            string // the ATS's candidate (Lever: contact) ID; "" for the rest contract
	ApplicationID string // the active application (Lever: opportunity) ID
	Name          string
	Email         string
}

// MeetingNotes is what an archived interview adds to the ATS: one note,
// written once, when the archive is complete.
type MeetingNotes struct {
	BookingID     string
	EventID       string
	NotetakerID   string // the marker of the note
	Title         string
	Summary       string
	ActionItems   []string
	RecordingURL  string // signed /files link, never a Nylas URL
	TranscriptURL string // signed /files link, never a Nylas URL
	Transcript    string // the transcript text (transcript.txt), for connectors that attach it
	ProcessedAt   time.Time
}

// ATS is one applicant tracking system behind the delivery state machine.
//
// None of the vendors deduplicates a create, so every record the connector
// creates carries a marker (the booking ID on an interview, a marker line in
// a note) that its Find methods look for: the delivery calls them after an
// interrupted create before it creates again. A record may take up to
// SearchLag to become findable after its create returned.
//
// Errors follow package apperr: a apperr.PermanentError for answers retrying
// cannot fix (an *outbound.StatusError inside it whose Unauthorized is true
// when the credentials are wrong), a apperr.RetryAfterError or any other
// error for retryable failures. Methods honour ctx and are safe for
// concurrent use.
type ATS interface {
	// Name is the connector's [ats] type: "rest", "greenhouse", "lever", "ashby".
	Name() string
	// FindCandidate returns the candidate with exactly this e-mail address
	// (case-insensitive) and their active application, the most recently
	// updated one when there are several, or ErrNoCandidate.
	FindCandidate(ctx context.Context, email string) (Candidate, error)
	// FindInterview returns the ID of the interview this connector created
	// for iv.BookingID on c's application, "" when there is none.
	FindInterview(ctx context.Context, c Candidate, iv *Interview) (string, error)
	// CreateInterview creates the interview and returns its ID ("" when the
	// ATS answers none; later writes then address the booking ID).
	CreateInterview(ctx context.Context, c Candidate, iv *Interview) (string, error)
	// UpdateInterview moves interview id to iv's times; ErrNotSupported
	// when the API cannot.
	UpdateInterview(ctx context.Context, c Candidate, id string, iv *Interview) error
	// CancelInterview cancels or removes interview id; ErrNotSupported when
	// the API cannot.
	CancelInterview(ctx context.Context, c Candidate, id string, iv *Interview) error
	// FindNote returns the ID of the note on c carrying marker, "" when none.
	FindNote(ctx context.Context, c Candidate, marker string) (string, error)
	// CreateNote adds a note with text to c (text ends with the marker line)
	// and returns its ID.
	CreateNote(ctx context.Context, c Candidate, marker, text string) (string, error)
	// Probe makes one authenticated read that also proves the acting user
	// ([ats] user_id) exists.
	Probe(ctx context.Context) error
	// SearchLag bounds how long a created record may stay invisible to the
	// Find methods.
	SearchLag() time.Duration
}

// MeetingNotesWriter is implemented by an ATS that takes an archived meeting
// as structured data rather than as a note (the rest contract's
// recordings_path). The delivery prefers it over CreateNote.
type MeetingNotesWriter interface {
	CreateMeetingNotes(ctx context.Context, c Candidate, n *MeetingNotes) (string, error)
}

// FileWriter is implemented by an ATS that can attach the transcript as a
// file (Lever). FindFile returns the ID of the file named name, "" when none.
type FileWriter interface {
	FindFile(ctx context.Context, c Candidate, name string) (string, error)
	CreateFile(ctx context.Context, c Candidate, name, contentType string, data []byte) (string, error)
}

// Marker is the line that makes a record findable again: stable, free of
// personal data, and plain text that survives any HTML stripping. kind is
// "interview", "scheduled", "rescheduled", "cancelled" or "notes".
func Marker(bookingID, kind string) string {
	return "notekeeper:booking=" + bookingID + ":kind=" + kind
}

// NotesMarker is the marker of the note of one archived meeting.
func NotesMarker(notetakerID string) string {
	return "notekeeper:notetaker=" + notetakerID + ":kind=notes"
}

// NoteLimit is the note length every connector can hold; longer text is cut
// by Cut with the links and the marker kept.
const NoteLimit = 50000

// FormatNotes is the text of an archived meeting's note: title, summary,
// action items, the links, and the marker line last.
func FormatNotes(n *MeetingNotes, marker string) string {
	var body strings.Builder
	title := n.Title
	if title == "" {
		title = "Interview"
	}
	fmt.Fprintf(&body, "%s: notes from the recording\n", title)
	if n.Summary != "" {
		fmt.Fprintf(&body, "\nSummary:\n%s\n", n.Summary)
	}
	if len(n.ActionItems) > 0 {
		body.WriteString("\nAction items:\n")
		for _, a := range n.ActionItems {
			fmt.Fprintf(&body, "- %s\n", a)
		}
	}
	var tail strings.Builder
	tail.WriteString("\n")
	if n.RecordingURL != "" {
		fmt.Fprintf(&tail, "Recording: %s\n", n.RecordingURL)
	}
	if n.TranscriptURL != "" {
		fmt.Fprintf(&tail, "Transcript: %s\n", n.TranscriptURL)
	}
	tail.WriteString("\n" + marker)
	return Cut(body.String(), tail.String(), NoteLimit)
}

// FormatStatus is the text of the note an ATS gets when its API cannot write
// the interview itself: what happened to it, its time and link, and the
// marker line last.
func FormatStatus(iv *Interview, kind, marker string) string {
	var what string
	switch kind {
	case "cancelled":
		what = "Interview cancelled"
	case "rescheduled":
		what = "Interview moved"
	default:
		what = "Interview scheduled"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", what, cmp.Or(iv.Title, "interview"))
	if !iv.Start.IsZero() {
		fmt.Fprintf(&b, "When: %s – %s (UTC)\n", iv.Start.UTC().Format("2006-01-02 15:04"), iv.End.UTC().Format("15:04"))
	}
	if iv.MeetingLink != "" && kind != "cancelled" {
		fmt.Fprintf(&b, "Link: %s\n", iv.MeetingLink)
	}
	if iv.Organizer.Email != "" {
		fmt.Fprintf(&b, "Organizer: %s\n", iv.Organizer.Email)
	}
	return b.String() + "\n" + marker
}
