package config

// The Nylas side, declared: [[calendar]] tables are Notetaker calendar-sync
// rules (Nylas sends a bot to the events they select), [[scheduler]] tables
// are Scheduler Configurations (booking pages whose bookings become ATS
// interviews). `notekeeper nylas plan` compares them with what the Nylas API
// holds and `nylas apply` makes it so; only the keys here are compared.
//
// Each table of an array starts from the defaults its setDefaults method
// gives, so that a [[calendar]] with only grant set is a complete rule.

// Calendar is one [[calendar]] table: the Notetaker rules of one calendar
// of one grant, or (Enabled false) calendar sync switched off for it.
type Calendar struct {
	Grant          string   `toml:"grant"` // one of [nylas] grants
	CalendarID     string   `toml:"calendar_id"`
	Enabled        bool     `toml:"enabled"` // false: calendar sync off for this calendar
	BotName        string   `toml:"bot_name"`
	EventSelection []string `toml:"event_selection"` // any of "all", "external", "internal", "own_events", "participant_only"
	// ParticipantsGTE and ParticipantsLTE bound the number of participants
	// of a selected event; 0 means no bound.
	ParticipantsGTE          int    `toml:"participants_gte"`
	ParticipantsLTE          int    `toml:"participants_lte"`
	VideoRecording           bool   `toml:"video_recording"`
	AudioRecording           bool   `toml:"audio_recording"`
	Transcription            bool   `toml:"transcription"`
	Summary                  bool   `toml:"summary"`      // needs Transcription
	ActionItems              bool   `toml:"action_items"` // needs Transcription
	SummaryInstructions      string `toml:"summary_instructions"`
	ActionItemsInstructions  string `toml:"action_items_instructions"`
	LeaveAfterSilenceSeconds int    `toml:"leave_after_silence_seconds"` // 10 to 3600
}

func (c *Calendar) setDefaults() {
	*c = Calendar{
		CalendarID:               "primary",
		Enabled:                  true,
		BotName:                  "Meeting Notetaker",
		EventSelection:           []string{"external"},
		ParticipantsGTE:          2,
		VideoRecording:           true,
		AudioRecording:           true,
		Transcription:            true,
		Summary:                  true,
		ActionItems:              true,
		LeaveAfterSilenceSeconds: 300,
	}
}

// Scheduler is one [[scheduler]] table: a Scheduler Configuration, found on
// the Nylas side by the ID stored for Name, else by Slug.
type Scheduler struct {
	Name                string        `toml:"name"`  // this file's key for it: letters, digits, '-', '_'
	Grant               string        `toml:"grant"` // the organizer's grant, one of [nylas] grants
	Slug                string        `toml:"slug"`  // hosted page https://book.nylas.com/{slug}; "" = none
	Title               string        `toml:"title"` // event title template
	DurationMinutes     int           `toml:"duration_minutes"`
	AvailabilityMethod  string        `toml:"availability_method"` // "collective" | "max-fairness" | "max-availability"
	Conferencing        string        `toml:"conferencing"`        // "" | "Google Meet" | "Microsoft Teams" | "Zoom Meeting"
	RequiresSessionAuth bool          `toml:"requires_session_auth"`
	Participants        []Participant `toml:"participant"` // one or more, exactly one organizer
	Notetaker           Notetaker     `toml:"notetaker"`
}

func (s *Scheduler) setDefaults() {
	*s = Scheduler{
		Title:              "Interview with {{invitee_name}}",
		DurationMinutes:    45,
		AvailabilityMethod: "max-fairness",
		Notetaker:          Notetaker{Name: "Interview Recorder", ShowConsentMessage: true},
	}
}

// Participant is one [[scheduler.participant]] table.
type Participant struct {
	Name       string `toml:"name"`
	Email      string `toml:"email"`
	Organizer  bool   `toml:"organizer"`
	CalendarID string `toml:"calendar_id"` // checked for availability and booked into
}

func (p *Participant) setDefaults() { *p = Participant{CalendarID: "primary"} }

// Notetaker is a [scheduler.notetaker] table: a Notetaker on every booking
// of the configuration (it needs conferencing).
type Notetaker struct {
	Enabled                 bool   `toml:"enabled"`
	Name                    string `toml:"name"`
	ShowConsentMessage      bool   `toml:"show_consent_message"`
	SummaryInstructions     string `toml:"summary_instructions"`
	ActionItemsInstructions string `toml:"action_items_instructions"`
}

// The values the Nylas-side enums accept.
var (
	eventSelections       = []string{"all", "external", "internal", "own_events", "participant_only"}
	availabilityMethods   = []string{"collective", "max-fairness", "max-availability"}
	conferencingProviders = []string{"", "Google Meet", "Microsoft Teams", "Zoom Meeting"}
)
