package nylas

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Calendar is a calendar as GET /v3/grants/{grant}/calendars/{id} returns
// it, reduced to what provisioning reads. Notetaker is nil when the calendar
// has no Notetaker rules (calendar sync is off).
type Calendar struct {
	ID        string
	GrantID   string
	Name      string
	IsPrimary bool
	Notetaker *CalendarNotetaker
}

// CalendarNotetaker is a calendar's Notetaker rules: which events get a bot
// (Rules) and what that bot does (Settings). A nil pointer field was absent
// in an answer (Nylas then applies its default) and is left out of a
// request.
type CalendarNotetaker struct {
	Name     *string // the bot's display name; Nylas' default "Nylas Notetaker"
	Settings BotSettings
	Rules    CalendarRules
}

// CalendarRules selects the events a calendar's bot joins. EventSelection
// values are a union ("all", "external", "internal", "own_events",
// "participant_only"); the participant bounds narrow it, nil meaning no
// bound.
type CalendarRules struct {
	EventSelection  []string
	ParticipantsGTE *int
	ParticipantsLTE *int
}

// BotSettings is what a bot records and generates (Nylas' meeting_settings),
// with the custom instructions flattened out of summary_settings and
// action_items_settings. nil fields were absent (Nylas' defaults: every
// boolean true, 300 s of silence) and are not sent.
type BotSettings struct {
	VideoRecording           *bool
	AudioRecording           *bool
	Transcription            *bool
	Summary                  *bool
	ActionItems              *bool
	SummaryInstructions      *string
	ActionItemsInstructions  *string
	LeaveAfterSilenceSeconds *int
}

// The wire shapes of the objects above, as the Nylas OpenAPI's calendar_sync and
// meeting_settings spell them (Nylas' OpenAPI contract).
type (
	wireCalendar struct {
		ID        string                 `json:"id"`
		GrantID   string                 `json:"grant_id"`
		Name      string                 `json:"name"`
		IsPrimary bool                   `json:"is_primary"`
		Notetaker *wireCalendarNotetaker `json:"notetaker"`
	}
	wireCalendarNotetaker struct {
		Name            *string              `json:"name,omitempty"`
		MeetingSettings *wireMeetingSettings `json:"meeting_settings,omitempty"`
		Rules           *wireRules           `json:"rules,omitempty"`
	}
	wireRules struct {
		EventSelection    []string               `json:"event_selection,omitempty"`
		ParticipantFilter *wireParticipantFilter `json:"participant_filter,omitempty"`
	}
	wireParticipantFilter struct {
		ParticipantsGTE *int `json:"participants_gte,omitempty"`
		ParticipantsLTE *int `json:"participants_lte,omitempty"`
	}
	wireMeetingSettings struct {
		VideoRecording           *bool             `json:"video_recording,omitempty"`
		AudioRecording           *bool             `json:"audio_recording,omitempty"`
		Transcription            *bool             `json:"transcription,omitempty"`
		Summary                  *bool             `json:"summary,omitempty"`
		ActionItems              *bool             `json:"action_items,omitempty"`
		SummarySettings          *wireInstructions `json:"summary_settings,omitempty"`
		ActionItemsSettings      *wireInstructions `json:"action_items_settings,omitempty"`
		LeaveAfterSilenceSeconds *int              `json:"leave_after_silence_seconds,omitempty"`
	}
	wireInstructions struct {
		CustomInstructions *string `json:"custom_instructions,omitempty"`
	}
)

// encodeCalendarNotetaker is the body of the calendar PUT: {"notetaker":
// {name, meeting_settings, rules}} with the whole object, since Nylas
// replaces a nested object whole, or {"notetaker": null} for nt nil, which
// switches calendar sync off ([UNCONFIRMED] by Nylas: the read-back tells).
// The calendar's own fields (its name) are never sent: Microsoft refuses a
// rename of a primary calendar. This is the one place to change for the
// newer notetaker_settings shape.
func encodeCalendarNotetaker(nt *CalendarNotetaker) map[string]any {
	if nt == nil {
		return map[string]any{"notetaker": nil}
	}
	w := &wireCalendarNotetaker{Name: nt.Name, MeetingSettings: encodeBotSettings(nt.Settings)}
	r := &wireRules{EventSelection: nt.Rules.EventSelection}
	if nt.Rules.ParticipantsGTE != nil || nt.Rules.ParticipantsLTE != nil {
		r.ParticipantFilter = &wireParticipantFilter{ParticipantsGTE: nt.Rules.ParticipantsGTE, ParticipantsLTE: nt.Rules.ParticipantsLTE}
	}
	if r.EventSelection != nil || r.ParticipantFilter != nil {
		w.Rules = r
	}
	return map[string]any{"notetaker": w}
}

// encodeBotSettings is the meeting_settings object of s; nil when s sets
// nothing.
func encodeBotSettings(s BotSettings) *wireMeetingSettings {
	w := &wireMeetingSettings{VideoRecording: s.VideoRecording, AudioRecording: s.AudioRecording,
		Transcription: s.Transcription, Summary: s.Summary, ActionItems: s.ActionItems,
		LeaveAfterSilenceSeconds: s.LeaveAfterSilenceSeconds}
	if s.SummaryInstructions != nil {
		w.SummarySettings = &wireInstructions{CustomInstructions: s.SummaryInstructions}
	}
	if s.ActionItemsInstructions != nil {
		w.ActionItemsSettings = &wireInstructions{CustomInstructions: s.ActionItemsInstructions}
	}
	if *w == (wireMeetingSettings{}) {
		return nil
	}
	return w
}

// decodeBotSettings is the inverse of encodeBotSettings.
func decodeBotSettings(w *wireMeetingSettings) BotSettings {
	if w == nil {
		return BotSettings{}
	}
	s := BotSettings{VideoRecording: w.VideoRecording, AudioRecording: w.AudioRecording,
		Transcription: w.Transcription, Summary: w.Summary, ActionItems: w.ActionItems,
		LeaveAfterSilenceSeconds: w.LeaveAfterSilenceSeconds}
	if w.SummarySettings != nil {
		s.SummaryInstructions = w.SummarySettings.CustomInstructions
	}
	if w.ActionItemsSettings != nil {
		s.ActionItemsInstructions = w.ActionItemsSettings.CustomInstructions
	}
	return s
}

// decodeCalendar turns a calendar answer into a Calendar.
func decodeCalendar(data []byte) (*Calendar, error) {
	var w wireCalendar
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode calendar: %w", err)
	}
	c := &Calendar{ID: w.ID, GrantID: w.GrantID, Name: w.Name, IsPrimary: w.IsPrimary}
	if n := w.Notetaker; n != nil {
		c.Notetaker = &CalendarNotetaker{Name: n.Name, Settings: decodeBotSettings(n.MeetingSettings)}
		if n.Rules != nil {
			c.Notetaker.Rules.EventSelection = n.Rules.EventSelection
			if f := n.Rules.ParticipantFilter; f != nil {
				c.Notetaker.Rules.ParticipantsGTE, c.Notetaker.Rules.ParticipantsLTE = f.ParticipantsGTE, f.ParticipantsLTE
			}
		}
	}
	return c, nil
}

// calendarPath is /v3/grants/{grant}/calendars/{id}, both escaped.
func calendarPath(grantID, calendarID string) (string, error) {
	g, err := segment("grant id", grantID)
	if err != nil {
		return "", err
	}
	c, err := segment("calendar id", calendarID)
	if err != nil {
		return "", err
	}
	return "/v3/grants/" + g + "/calendars/" + c, nil
}

// GetCalendar returns calendar calendarID of grantID ("primary" names the
// grant's main calendar) with its Notetaker rules. The list endpoint is not
// used: whether it carries notetaker is unconfirmed.
//
// Errors: ErrNotFound (through errors.Is) when Nylas answers 404; an *Error
// for any other non-2xx answer once retries are spent; an error without a
// request when an ID is empty, "." or ".."; ctx's error when it ends first.
func (c *Client) GetCalendar(ctx context.Context, grantID, calendarID string) (*Calendar, error) {
	path, err := calendarPath(grantID, calendarID)
	if err != nil {
		return nil, fmt.Errorf("get calendar: %w", err)
	}
	data, err := c.getData(ctx, path, nil)
	if err != nil {
		return nil, fmt.Errorf("get calendar %q of grant %q: %w", calendarID, grantID, err)
	}
	return decodeCalendar(data)
}

// SetCalendarNotetaker replaces calendar calendarID's Notetaker rules with
// nt (PUT /v3/grants/{grant}/calendars/{id}, the whole notetaker object), or
// removes them when nt is nil, and returns the calendar as Nylas answers.
// The answer may not show everything Nylas took: read the calendar back with
// GetCalendar to know. A PUT is retried like a GET.
//
// Errors: as GetCalendar; a 400 names what Nylas refused in its message.
func (c *Client) SetCalendarNotetaker(ctx context.Context, grantID, calendarID string, nt *CalendarNotetaker) (*Calendar, error) {
	path, err := calendarPath(grantID, calendarID)
	if err != nil {
		return nil, fmt.Errorf("set calendar notetaker: %w", err)
	}
	raw, err := c.send(ctx, http.MethodPut, path, nil, encodeCalendarNotetaker(nt))
	if err == nil {
		var data json.RawMessage
		if data, err = envelopeData(raw); err == nil {
			if data == nil {
				return &Calendar{ID: calendarID, GrantID: grantID}, nil
			}
			return decodeCalendar(data)
		}
	}
	return nil, fmt.Errorf("set notetaker of calendar %q of grant %q: %w", calendarID, grantID, err)
}
