package demo

import (
	"image/color"
	"time"
)

// InternalDomain is the demo organisation's e-mail domain: its people are
// colleagues, not CRM contacts or candidates (config internal_domains).
const InternalDomain = "your-company.example"

// Participant is a person on a meeting.
type Participant struct {
	Email, Name string
}

// Meeting is one simulated Notetaker bot: its calendar event, the state the
// API reports for it now, and its media (none when Transcript is empty).
type Meeting struct {
	Scenario     string // what the demo calls it: "sales meeting", …
	NotetakerID  string
	GrantID      string
	EventID      string
	ICalUID      string
	CalendarID   string
	Title        string
	MeetingLink  string
	Organizer    Participant
	Participants []Participant
	State        string // Notetaker state the API reports
	MeetingState string // with State "failed_entry": why
	Transcript   []Line
	Summary      string
	ActionItems  []string
	Tint         color.RGBA // of the thumbnail
}

// MediaFile is one media file of a meeting as storage serves it. Name is
// storage's file name (as in Nylas' media URLs), not the archived one.
type MediaFile struct {
	Kind        string // recording, transcript, summary, action_items, thumbnail
	Name        string
	ContentType string
	Data        []byte
}

// Media returns the meeting's media files in archive order of kinds (archive.Kinds), built
// afresh (the same meeting always gives the same bytes); nil for a meeting
// without media.
func (m *Meeting) Media() []MediaFile {
	if len(m.Transcript) == 0 {
		return nil
	}
	return []MediaFile{
		{"recording", "meeting_recording.mp4", "video/mp4", Recording()},
		{"transcript", "transcript.json", "application/json", TranscriptJSON(m.Transcript)},
		{"summary", "meeting_summary.json", "application/json", SummaryJSON(m.Summary)},
		{"action_items", "meeting_action_items.json", "application/json", ActionItemsJSON(m.ActionItems)},
		{"thumbnail", "thumbnail.png", "image/png", Thumbnail(m.Tint)},
	}
}

// RecordingSeconds is the length of Recording.
const RecordingSeconds = 4

var (
	sarah = Participant{"sarah@your-company.example", "Sarah Kim"}
	jo    = Participant{"jo@acme.example", "Jo Park"}
	li    = Participant{"li@acme.example", "Li Wu"}
	dana  = Participant{"dana.chen@candidates.example", "Dana Chen"}
)

// Sales is scenario (a): a renewal call with two people from Acme (one of
// them a CRM contact with a deal) that the bot recorded. It ends in the CRM.
func Sales() *Meeting {
	return &Meeting{
		Scenario: "sales meeting", NotetakerID: "nt7Hq2LmZ", GrantID: "grant-a1b2c3",
		EventID: "7kq2c1vdd0l3o9n3h2", ICalUID: "7kq2c1@google.com", CalendarID: "primary",
		Title: "Acme renewal call", MeetingLink: "https://meet.google.com/abc-defg-hij",
		Organizer: sarah, Participants: []Participant{sarah, jo, li},
		State: "media_available",
		Transcript: []Line{
			{"Sarah Kim", 0, 4200, "Thanks for joining, Jo."},
			{"Jo Park", 4300, 9100, "Happy to. We want to talk about the renewal terms."},
			{"Li Wu", 9200, 14800, "We'd like to add twenty seats and move to annual billing."},
			{"Sarah Kim", 14900, 21000, "That works. I'll send a quote with the annual discount by Friday."},
		},
		Summary: "Acme wants to renew, add 20 seats and move to annual billing. Sarah will send a quote with the annual discount by Friday.",
		ActionItems: []string{
			"Sarah: send Acme a quote for 20 more seats with annual billing by Friday",
			"Jo: confirm the budget owner for the renewal",
		},
		Tint: color.RGBA{0x2b, 0x6c, 0xb0, 0xff},
	}
}

// Interview is the meeting of scenario (b): the booked interview with Dana
// Chen that the bot recorded. It ends in the ATS.
func Interview() *Meeting {
	return &Meeting{
		Scenario: "booked interview", NotetakerID: "ntBk77Qe1", GrantID: "grant-a1b2c3",
		EventID: "bk9evt2q8s", ICalUID: "bk9evt2q8s@google.com", CalendarID: "primary",
		Title: "Interview with Dana Chen", MeetingLink: "https://meet.google.com/xyz-abcd-efg",
		Organizer: sarah, Participants: []Participant{dana, sarah},
		State: "media_available",
		Transcript: []Line{
			{"Sarah Kim", 0, 3800, "Welcome, Dana. Tell me about a system you built."},
			{"Dana Chen", 3900, 11200, "I built the ingestion service for our payments team: queues, retries and idempotency keys."},
			{"Sarah Kim", 11300, 15000, "How did you make retries safe?"},
			{"Dana Chen", 15100, 22400, "Every write carried an idempotency key, and the consumer stored it in the same transaction."},
		},
		Summary: "Dana Chen (backend engineer) described building a payments ingestion service with durable queues and idempotent retries. Strong on reliability.",
		ActionItems: []string{
			"Sarah: send Dana the system design take-home",
			"Recruiting: schedule the panel round",
		},
		Tint: color.RGBA{0x2f, 0x85, 0x5a, 0xff},
	}
}

// Lobby is scenario (c): a bot that waited in the lobby and was never let
// in. It has no media; it raises notetaker.failed_entry.
func Lobby() *Meeting {
	return &Meeting{
		Scenario: "bot stuck in the lobby", NotetakerID: "ntLobby5Wd", GrantID: "grant-a1b2c3",
		EventID: "gx4intro9k2", ICalUID: "gx4intro9k2@google.com", CalendarID: "primary",
		Title: "Globex intro call", MeetingLink: "https://meet.google.com/qrs-tuvw-xyz",
		Organizer: sarah, Participants: []Participant{sarah, {"max@globex.example", "Max Ruiz"}},
		State: "failed_entry", MeetingState: "admission_timeout",
	}
}

// Booking is the Scheduler booking of scenario (b).
type Booking struct {
	ID              string
	ConfigurationID string
	Role            string
	Meeting         *Meeting
	Candidate       Participant
	Start, End      time.Time
}

// InterviewBooking is the booking of the Interview meeting: it started when
// the bot joined (JoinTime) and lasted 45 minutes.
func InterviewBooking(now time.Time) *Booking {
	start := JoinTime(now)
	return &Booking{ID: "bkg-5521", ConfigurationID: "cfg-eng-panel", Role: "Backend engineer",
		Meeting: Interview(), Candidate: dana, Start: start, End: start.Add(45 * time.Minute)}
}

// CRMContact is the one CRM contact the demo's CRM knows: a participant of
// the sales meeting, with an open deal.
var CRMContact = struct{ Email, ID, DealID string }{jo.Email, "crm-contact-jo-park", "crm-deal-acme-renewal"}
