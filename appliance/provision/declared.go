package provision

// Calendar is one [[calendar]] table (docs/nylas-setup.md): the Notetaker rules of one
// calendar of one grant. main fills it from the config; the zero value is
// not the TOML default (see DefaultCalendar).
type Calendar struct {
	Grant                    string
	CalendarID               string // "primary" names the grant's main calendar
	Enabled                  bool   // false: calendar sync off for this calendar
	BotName                  string
	EventSelection           []string // any of all, external, internal, own_events, participant_only
	ParticipantsGTE          int      // 0: no lower bound
	ParticipantsLTE          int      // 0: no upper bound
	VideoRecording           bool
	AudioRecording           bool
	Transcription            bool
	Summary                  bool
	ActionItems              bool
	SummaryInstructions      string
	ActionItemsInstructions  string
	LeaveAfterSilenceSeconds int // 10 to 3600
}

// Key is how plan lines name the calendar: GRANT/CALENDAR.
func (c Calendar) Key() string { return c.Grant + "/" + c.CalendarID }

// Scheduler is one [[scheduler]] table (docs/nylas-setup.md): a Scheduler
// Configuration, its booking page and the Notetaker on every booking.
type Scheduler struct {
	Name                string // this file's key for it; never sent to Nylas
	Grant               string // the organizer's grant
	Slug                string // "" = no hosted page
	Title               string
	DurationMinutes     int
	AvailabilityMethod  string // collective | max-fairness | max-availability
	Conferencing        string // "" | Google Meet | Microsoft Teams | Zoom Meeting
	RequiresSessionAuth bool
	Participants        []Participant
	Notetaker           SchedulerNotetaker
}

// Participant is one [[scheduler.participant]] table.
type Participant struct {
	Name       string
	Email      string
	Organizer  bool
	CalendarID string // checked for availability and booked into
}

// SchedulerNotetaker is the [scheduler.notetaker] table.
type SchedulerNotetaker struct {
	Enabled                 bool
	Name                    string
	ShowConsentMessage      bool
	SummaryInstructions     string
	ActionItemsInstructions string
}

// DefaultCalendar is a [[calendar]] table for grant with every
// default.
func DefaultCalendar(grant string) Calendar {
	return Calendar{Grant: grant, CalendarID: "primary", Enabled: true, BotName: "Meeting Notetaker",
		EventSelection: []string{"external"}, ParticipantsGTE: 2, VideoRecording: true, AudioRecording: true,
		Transcription: true, Summary: true, ActionItems: true, LeaveAfterSilenceSeconds: 300}
}

// DefaultScheduler is a [[scheduler]] table named name for grant with every
// default of docs/nylas-setup.md (and no participant).
func DefaultScheduler(name, grant string) Scheduler {
	return Scheduler{Name: name, Grant: grant, Title: "Interview with {{invitee_name}}", DurationMinutes: 45,
		AvailabilityMethod: "max-fairness",
		Notetaker:          SchedulerNotetaker{Name: "Interview Recorder", ShowConsentMessage: true}}
}

// BookingURL is the hosted booking page of a configuration with slug, ""
// for none. Nylas documents only book.nylas.com (the EU host is
// unconfirmed); a page needs requires_session_auth = false.
func BookingURL(slug string) string {
	if slug == "" {
		return ""
	}
	return "https://book.nylas.com/" + slug
}
