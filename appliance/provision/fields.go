package provision

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/notekeeper/notekeeper/appliance/nylas"
)

// field is one declared key in normalised form: both sides of a diff are
// turned into the same list of fields, so only the declared keys are
// compared and a default Nylas fills in compares equal to the declared
// default.
type field struct {
	name    string
	value   string        // formatted for a plan line
	section nylas.Section // the configuration section it is written in; "" for calendars
}

// Nylas' documented defaults, applied to an answer's absent values.
const (
	nylasBotName        = "Nylas Notetaker"
	nylasSilenceSeconds = 300
	nylasMethod         = "collective"
)

// desiredCalendar is the notetaker object a [[calendar]] table asks for;
// nil when it is disabled.
func desiredCalendar(c Calendar) *nylas.CalendarNotetaker {
	if !c.Enabled {
		return nil
	}
	nt := &nylas.CalendarNotetaker{Name: ptr(c.BotName), Rules: nylas.CalendarRules{EventSelection: slices.Clone(c.EventSelection)}}
	if c.ParticipantsGTE > 0 {
		nt.Rules.ParticipantsGTE = ptr(c.ParticipantsGTE)
	}
	if c.ParticipantsLTE > 0 {
		nt.Rules.ParticipantsLTE = ptr(c.ParticipantsLTE)
	}
	nt.Settings = botSettings(c.VideoRecording, c.AudioRecording, c.Transcription, c.Summary, c.ActionItems,
		c.SummaryInstructions, c.ActionItemsInstructions, c.LeaveAfterSilenceSeconds)
	return nt
}

// botSettings builds meeting settings; instructions are sent only when set
// (and their feature is on), so a calendar's replaced notetaker object
// clears old ones.
func botSettings(video, audio, transcription, summary, actionItems bool, summaryText, actionText string, silence int) nylas.BotSettings {
	s := nylas.BotSettings{VideoRecording: ptr(video), AudioRecording: ptr(audio), Transcription: ptr(transcription),
		Summary: ptr(summary), ActionItems: ptr(actionItems)}
	if silence > 0 {
		s.LeaveAfterSilenceSeconds = ptr(silence)
	}
	if summaryText != "" && summary {
		s.SummaryInstructions = ptr(summaryText)
	}
	if actionText != "" && actionItems {
		s.ActionItemsInstructions = ptr(actionText)
	}
	return s
}

// calendarFields is a calendar's notetaker rules as declared keys.
func calendarFields(nt *nylas.CalendarNotetaker) []field {
	sel := slices.Clone(nt.Rules.EventSelection)
	slices.Sort(sel)
	sel = slices.Compact(sel)
	s := nt.Settings
	return []field{
		{name: "bot_name", value: strconv.Quote(or(nt.Name, nylasBotName))},
		{name: "event_selection", value: "[" + strings.Join(sel, " ") + "]"},
		{name: "participants_gte", value: strconv.Itoa(or(nt.Rules.ParticipantsGTE, 0))},
		{name: "participants_lte", value: strconv.Itoa(or(nt.Rules.ParticipantsLTE, 0))},
		{name: "video_recording", value: strconv.FormatBool(or(s.VideoRecording, true))},
		{name: "audio_recording", value: strconv.FormatBool(or(s.AudioRecording, true))},
		{name: "transcription", value: strconv.FormatBool(or(s.Transcription, true))},
		{name: "summary", value: strconv.FormatBool(or(s.Summary, true))},
		{name: "action_items", value: strconv.FormatBool(or(s.ActionItems, true))},
		{name: "summary_instructions", value: quoteText(or(s.SummaryInstructions, ""))},
		{name: "action_items_instructions", value: quoteText(or(s.ActionItemsInstructions, ""))},
		{name: "leave_after_silence_seconds", value: strconv.Itoa(or(s.LeaveAfterSilenceSeconds, nylasSilenceSeconds))},
	}
}

// desiredConfiguration is the configuration a [[scheduler]] table asks
// for. Every participant is sent with is_organizer, round-robin methods
// included (docs/nylas-setup.md, after Nylas' interview guide; Nylas' reference text
// says otherwise — the read-back reports it if Nylas drops it).
func desiredConfiguration(s Scheduler) *nylas.Configuration {
	c := &nylas.Configuration{RequiresSessionAuth: ptr(s.RequiresSessionAuth), DurationMinutes: s.DurationMinutes,
		AvailabilityMethod: ptr(s.AvailabilityMethod), Title: s.Title, Conferencing: s.Conferencing}
	if s.Slug != "" {
		c.Slug = ptr(s.Slug)
	}
	for _, p := range s.Participants {
		cal := p.CalendarID
		if cal == "" {
			cal = "primary"
		}
		c.Participants = append(c.Participants, nylas.ConfigParticipant{Email: p.Email, Name: p.Name,
			IsOrganizer: ptr(p.Organizer), CalendarIDs: []string{cal}, BookingCalendarID: cal})
	}
	n := s.Notetaker
	c.Notetaker = &nylas.SchedulerNotetaker{Enabled: ptr(n.Enabled)}
	if n.Enabled {
		c.Notetaker.Name, c.Notetaker.ShowConsentMessage = ptr(n.Name), ptr(n.ShowConsentMessage)
		c.Notetaker.Settings = botSettings(true, true, true, true, true, n.SummaryInstructions, n.ActionItemsInstructions, 0)
	}
	return c
}

// configurationFields is a configuration as declared keys. Participants
// are compared as a set of e-mails, then each one present on both sides by
// its own keys (participant EMAIL name|organizer|calendar_id). The bot's
// keys count only while it is enabled.
func configurationFields(c *nylas.Configuration) []field {
	fs := []field{
		{name: "slug", value: strconv.Quote(or(c.Slug, "")), section: nylas.SectionSlug},
		{name: "requires_session_auth", value: strconv.FormatBool(or(c.RequiresSessionAuth, false)), section: nylas.SectionRequiresSessionAuth},
		{name: "title", value: strconv.Quote(c.Title), section: nylas.SectionEventBooking},
		{name: "duration_minutes", value: strconv.Itoa(c.DurationMinutes), section: nylas.SectionAvailability},
		{name: "availability_method", value: or(c.AvailabilityMethod, nylasMethod), section: nylas.SectionAvailability},
		{name: "conferencing", value: strconv.Quote(c.Conferencing), section: nylas.SectionEventBooking},
	}
	var emails []string
	for _, p := range c.Participants {
		emails = append(emails, strings.ToLower(p.Email))
	}
	slices.Sort(emails)
	fs = append(fs, field{name: "participants", value: "[" + strings.Join(emails, " ") + "]", section: nylas.SectionParticipants})
	for _, p := range c.Participants {
		prefix := "participant " + strings.ToLower(p.Email) + " "
		cal := p.BookingCalendarID
		if len(p.CalendarIDs) != 1 || p.CalendarIDs[0] != cal {
			cal = fmt.Sprintf("availability %v, booking %s", p.CalendarIDs, cal)
		}
		fs = append(fs,
			field{name: prefix + "name", value: strconv.Quote(p.Name), section: nylas.SectionParticipants},
			field{name: prefix + "organizer", value: strconv.FormatBool(or(p.IsOrganizer, false)), section: nylas.SectionParticipants},
			field{name: prefix + "calendar_id", value: cal, section: nylas.SectionParticipants})
	}
	n := c.Notetaker
	if n == nil {
		n = &nylas.SchedulerNotetaker{}
	}
	enabled := or(n.Enabled, false)
	fs = append(fs, field{name: "notetaker.enabled", value: strconv.FormatBool(enabled), section: nylas.SectionScheduler})
	if enabled {
		fs = append(fs,
			field{name: "notetaker.name", value: strconv.Quote(or(n.Name, nylasBotName)), section: nylas.SectionScheduler},
			field{name: "notetaker.show_consent_message", value: strconv.FormatBool(or(n.ShowConsentMessage, true)), section: nylas.SectionScheduler},
			field{name: "notetaker.summary_instructions", value: quoteText(or(n.Settings.SummaryInstructions, "")), section: nylas.SectionScheduler},
			field{name: "notetaker.action_items_instructions", value: quoteText(or(n.Settings.ActionItemsInstructions, "")), section: nylas.SectionScheduler})
	}
	return fs
}

// Diff is one declared key that differs: Old is what Nylas holds, New what
// the config declares, both formatted as a plan prints them.
type Diff struct {
	Field    string
	Old, New string
	section  nylas.Section
}

// diffFields compares have with want, key by key in want's order. A key
// only one side has is skipped: that is a participant present on one side
// only, which the participants key already reports.
func diffFields(have, want []field) []Diff {
	old := map[string]string{}
	for _, f := range have {
		old[f.name] = f.value
	}
	var out []Diff
	for _, f := range want {
		o, ok := old[f.name]
		if ok && o != f.value {
			out = append(out, Diff{Field: f.name, Old: o, New: f.value, section: f.section})
		}
	}
	return out
}

// sections lists the configuration sections diffs touch, once each.
func sections(ds []Diff) []nylas.Section {
	var out []nylas.Section
	for _, d := range ds {
		if d.section != "" && !slices.Contains(out, d.section) {
			out = append(out, d.section)
		}
	}
	return out
}

// quoteText quotes instructions (whole: a plan line shortens them).
func quoteText(s string) string { return strconv.Quote(s) }

// short cuts a formatted value to 60 characters for a plan line.
func short(v string) string {
	if r := []rune(v); len(r) > 60 {
		return string(r[:57]) + "…"
	}
	return v
}

func ptr[T any](v T) *T { return &v }

// or is *p, or def when p is nil (or points at a zero string).
func or[T comparable](p *T, def T) T {
	var zero T
	if p == nil || (*p == zero && any(zero) == any("")) {
		return def
	}
	return *p
}
