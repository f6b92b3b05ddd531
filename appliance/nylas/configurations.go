package nylas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Configuration is a Scheduler Configuration (a booking page), reduced to
// what notekeeper declares. A nil pointer field was absent or null in an
// answer (Nylas' default applies) and is not sent in a create.
type Configuration struct {
	ID                  string
	Slug                *string // hosted page https://book.nylas.com/{slug}; nil: none
	RequiresSessionAuth *bool
	Participants        []ConfigParticipant
	DurationMinutes     int
	AvailabilityMethod  *string // "collective" (Nylas' default), "max-fairness", "max-availability"
	Title               string  // event_booking.title
	// Conferencing is the provider conferencing is autocreated with ("Google
	// Meet", "Microsoft Teams", "Zoom Meeting"); "" for none.
	Conferencing string
	Notetaker    *SchedulerNotetaker // scheduler.notetaker_settings; nil when absent

	// raw is the data object as Nylas answered it, so an update can carry
	// the keys notekeeper does not manage through unchanged.
	raw json.RawMessage
}

// ConfigParticipant is one host of a configuration. A round-robin
// configuration still names one organizer (docs/nylas-setup.md, as Nylas' interview
// guide does, though its reference text conflicts).
type ConfigParticipant struct {
	Email             string
	Name              string
	IsOrganizer       *bool
	CalendarIDs       []string // checked for availability
	BookingCalendarID string   // where bookings are written
}

// SchedulerNotetaker is the bot Nylas sends to every booking of a
// configuration (scheduler.notetaker_settings).
type SchedulerNotetaker struct {
	Enabled            *bool
	Name               *string // notetaker_name; Nylas' default "Nylas Notetaker"
	ShowConsentMessage *bool   // show_ui_consent_message; Nylas' default true
	Settings           BotSettings
}

// Section is a top-level key of a configuration. An update sends whole
// sections, since Nylas replaces a nested object whole.
type Section string

// The sections notekeeper writes.
const (
	SectionSlug                Section = "slug"
	SectionRequiresSessionAuth Section = "requires_session_auth"
	SectionParticipants        Section = "participants"
	SectionAvailability        Section = "availability"
	SectionEventBooking        Section = "event_booking"
	SectionScheduler           Section = "scheduler"
)

// requiredSections are sent in every update: the Nylas OpenAPI's configuration schema
// requires them in the PUT body as in the create.
var requiredSections = []Section{SectionParticipants, SectionAvailability, SectionEventBooking}

// The wire shapes (Nylas OpenAPI schemas configuration, configuration_participants,
// configuration_availability, configuration_event_booking,
// configuration_scheduler).
type (
	wireConfiguration struct {
		ID                  string             `json:"id,omitempty"`
		Slug                *string            `json:"slug,omitempty"`
		RequiresSessionAuth *bool              `json:"requires_session_auth,omitempty"`
		Participants        []wireParticipant  `json:"participants"`
		Availability        wireAvailability   `json:"availability"`
		EventBooking        wireEventBooking   `json:"event_booking"`
		Scheduler           *wireSchedulerPart `json:"scheduler,omitempty"`
	}
	wireParticipant struct {
		Email        string `json:"email"`
		Name         string `json:"name,omitempty"`
		IsOrganizer  *bool  `json:"is_organizer,omitempty"`
		Availability struct {
			CalendarIDs []string `json:"calendar_ids"`
		} `json:"availability"`
		Booking struct {
			CalendarID string `json:"calendar_id"`
		} `json:"booking"`
	}
	wireAvailability struct {
		DurationMinutes   int `json:"duration_minutes"`
		AvailabilityRules *struct {
			AvailabilityMethod *string `json:"availability_method,omitempty"`
		} `json:"availability_rules,omitempty"`
	}
	wireEventBooking struct {
		Title        string            `json:"title"`
		Conferencing *wireConferencing `json:"conferencing,omitempty"`
	}
	wireConferencing struct {
		Provider   string          `json:"provider,omitempty"`
		Autocreate json.RawMessage `json:"autocreate,omitempty"`
	}
	wireSchedulerPart struct {
		NotetakerSettings *wireSchedulerNotetaker `json:"notetaker_settings,omitempty"`
	}
	wireSchedulerNotetaker struct {
		Enabled              *bool                `json:"enabled,omitempty"`
		NotetakerName        *string              `json:"notetaker_name,omitempty"`
		ShowUIConsentMessage *bool                `json:"show_ui_consent_message,omitempty"`
		MeetingSettings      *wireMeetingSettings `json:"meeting_settings,omitempty"`
	}
)

// encodeConfiguration is the body of a configuration create: the declared
// fields in the Nylas OpenAPI's Standard Configuration shape.
func encodeConfiguration(c *Configuration) wireConfiguration {
	w := wireConfiguration{Slug: c.Slug, RequiresSessionAuth: c.RequiresSessionAuth,
		Participants: []wireParticipant{}}
	for _, p := range c.Participants {
		wp := wireParticipant{Email: p.Email, Name: p.Name, IsOrganizer: p.IsOrganizer}
		wp.Availability.CalendarIDs = p.CalendarIDs
		if wp.Availability.CalendarIDs == nil {
			wp.Availability.CalendarIDs = []string{}
		}
		wp.Booking.CalendarID = p.BookingCalendarID
		w.Participants = append(w.Participants, wp)
	}
	w.Availability.DurationMinutes = c.DurationMinutes
	if c.AvailabilityMethod != nil {
		w.Availability.AvailabilityRules = &struct {
			AvailabilityMethod *string `json:"availability_method,omitempty"`
		}{c.AvailabilityMethod}
	}
	w.EventBooking.Title = c.Title
	if c.Conferencing != "" {
		w.EventBooking.Conferencing = &wireConferencing{Provider: c.Conferencing, Autocreate: json.RawMessage(`{}`)}
	}
	if n := c.Notetaker; n != nil {
		w.Scheduler = &wireSchedulerPart{NotetakerSettings: &wireSchedulerNotetaker{Enabled: n.Enabled,
			NotetakerName: n.Name, ShowUIConsentMessage: n.ShowConsentMessage,
			MeetingSettings: encodeBotSettings(n.Settings)}}
	}
	return w
}

// encodeConfigurationUpdate is the body of a configuration PUT that changes
// sections of current to desired's: each section sent (the ones asked for,
// plus the three sections the Nylas OpenAPI requires) is desired's value laid over current's, so
// keys notekeeper does not manage (open hours, reminders, e-mail templates,
// Editor-UI settings) go back as they were. Participants are matched by
// e-mail; conferencing is kept as Nylas has it when the provider is the
// same (it may carry a conf_grant_id), and sent as {} to remove it.
func encodeConfigurationUpdate(desired, current *Configuration, sections []Section) (map[string]any, error) {
	var want, have map[string]any
	if err := roundTrip(encodeConfiguration(desired), &want); err != nil {
		return nil, err
	}
	if len(current.raw) > 0 {
		if err := json.Unmarshal(current.raw, &have); err != nil {
			return nil, fmt.Errorf("decode current configuration: %w", err)
		}
	}
	body := map[string]any{}
	for _, s := range append(slices.Clone(requiredSections), sections...) {
		key := string(s)
		switch s {
		case SectionSlug, SectionRequiresSessionAuth:
			body[key] = want[key] // nil (JSON null) clears
		case SectionParticipants:
			body[key] = mergeParticipants(have[key], want[key])
		case SectionEventBooking:
			eb := mergeJSON(have[key], want[key]).(map[string]any)
			switch {
			case desired.Conferencing == "":
				eb["conferencing"] = map[string]any{}
			case current.Conferencing == desired.Conferencing:
				if hc, ok := asMap(have[key])["conferencing"]; ok {
					eb["conferencing"] = hc
				}
			default:
				eb["conferencing"] = asMap(want[key])["conferencing"]
			}
			body[key] = eb
		default:
			body[key] = mergeJSON(have[key], want[key])
		}
	}
	return body, nil
}

// mergeJSON lays want over have: objects are merged key by key, anything
// else in want replaces what have holds.
func mergeJSON(have, want any) any {
	wm, ok := want.(map[string]any)
	if !ok {
		return want
	}
	out := map[string]any{}
	for k, v := range asMap(have) {
		out[k] = v
	}
	for k, v := range wm {
		out[k] = mergeJSON(out[k], v)
	}
	return out
}

// mergeParticipants lays each wanted participant over the current one with
// the same e-mail (case-insensitive), in wanted order; participants not
// wanted are dropped.
func mergeParticipants(have, want any) any {
	hl, _ := have.([]any)
	wl, _ := want.([]any)
	out := make([]any, 0, len(wl))
	for _, w := range wl {
		email, _ := asMap(w)["email"].(string)
		var match any
		for _, h := range hl {
			if he, _ := asMap(h)["email"].(string); strings.EqualFold(he, email) {
				match = h
			}
		}
		out = append(out, mergeJSON(match, w))
	}
	return out
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// roundTrip re-decodes v's JSON into out.
func roundTrip(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// decodeConfiguration turns a configuration answer into a Configuration.
func decodeConfiguration(data []byte) (*Configuration, error) {
	var w wireConfiguration
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode configuration: %w", err)
	}
	c := &Configuration{ID: w.ID, Slug: w.Slug, RequiresSessionAuth: w.RequiresSessionAuth,
		DurationMinutes: w.Availability.DurationMinutes, Title: w.EventBooking.Title,
		raw: append(json.RawMessage(nil), data...)}
	if c.Slug != nil && *c.Slug == "" {
		c.Slug = nil
	}
	for _, p := range w.Participants {
		c.Participants = append(c.Participants, ConfigParticipant{Email: p.Email, Name: p.Name,
			IsOrganizer: p.IsOrganizer, CalendarIDs: p.Availability.CalendarIDs, BookingCalendarID: p.Booking.CalendarID})
	}
	if r := w.Availability.AvailabilityRules; r != nil {
		c.AvailabilityMethod = r.AvailabilityMethod
	}
	if cf := w.EventBooking.Conferencing; cf != nil {
		c.Conferencing = cf.Provider
	}
	if w.Scheduler != nil && w.Scheduler.NotetakerSettings != nil {
		n := w.Scheduler.NotetakerSettings
		c.Notetaker = &SchedulerNotetaker{Enabled: n.Enabled, Name: n.NotetakerName,
			ShowConsentMessage: n.ShowUIConsentMessage, Settings: decodeBotSettings(n.MeetingSettings)}
	}
	return c, nil
}

// configurationsPath is /v3/grants/{grant}/scheduling/configurations, and
// with id that configuration's path.
func configurationsPath(grantID, id string) (string, error) {
	g, err := segment("grant id", grantID)
	if err != nil {
		return "", err
	}
	p := "/v3/grants/" + g + "/scheduling/configurations"
	if id == "" {
		return p, nil
	}
	s, err := segment("configuration id", id)
	if err != nil {
		return "", err
	}
	return p + "/" + s, nil
}

// GetConfiguration returns configuration id of grantID (which may be the
// grant's e-mail address).
//
// Errors: ErrNotFound (through errors.Is) when Nylas answers 404, as for a
// deleted configuration; an *Error for any other non-2xx answer once
// retries are spent; an error without a request when an ID is empty, "."
// or ".."; ctx's error when it ends first.
func (c *Client) GetConfiguration(ctx context.Context, grantID, id string) (*Configuration, error) {
	path, err := configurationsPath(grantID, id)
	if err == nil && id == "" {
		err = errors.New("empty configuration id")
	}
	if err != nil {
		return nil, fmt.Errorf("get configuration: %w", err)
	}
	data, err := c.getData(ctx, path, nil)
	if err != nil {
		return nil, fmt.Errorf("get configuration %q: %w", id, err)
	}
	return decodeConfiguration(data)
}

// ListConfigurations returns one page (at most 200) of grantID's
// configurations from pageToken ("" for the first) and the next_cursor of
// the next page, "" after the last. There is no lookup by slug: page
// through with EachConfiguration.
//
// Errors: as GetConfiguration, without ErrNotFound.
func (c *Client) ListConfigurations(ctx context.Context, grantID, pageToken string) ([]*Configuration, string, error) {
	path, err := configurationsPath(grantID, "")
	if err != nil {
		return nil, "", fmt.Errorf("list configurations: %w", err)
	}
	q := url.Values{"limit": {strconv.Itoa(maxListLimit)}}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	raw, err := c.send(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return nil, "", fmt.Errorf("list configurations of grant %q: %w", grantID, err)
	}
	var page struct {
		Data       []json.RawMessage `json:"data"`
		NextCursor string            `json:"next_cursor"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, "", fmt.Errorf("list configurations of grant %q: decode: %w", grantID, err)
	}
	out := make([]*Configuration, 0, len(page.Data))
	for _, d := range page.Data {
		cfg, err := decodeConfiguration(d)
		if err != nil {
			return nil, "", fmt.Errorf("list configurations of grant %q: %w", grantID, err)
		}
		out = append(out, cfg)
	}
	return out, page.NextCursor, nil
}

// EachConfiguration calls fn for every configuration of grantID, page
// after page, until fn returns false or an error (returned unwrapped).
//
// Errors: fn's; ListConfigurations'; an error when Nylas repeats a cursor.
func (c *Client) EachConfiguration(ctx context.Context, grantID string, fn func(*Configuration) (more bool, err error)) error {
	seen := map[string]bool{}
	token := ""
	for {
		items, next, err := c.ListConfigurations(ctx, grantID, token)
		if err != nil {
			return err
		}
		for _, cfg := range items {
			more, err := fn(cfg)
			if err != nil || !more {
				return err
			}
		}
		if next == "" {
			return nil
		}
		if seen[next] {
			return fmt.Errorf("list configurations of grant %q: the API repeated a page cursor", grantID)
		}
		seen[next] = true
		token = next
	}
}

// CreateConfiguration creates cfg under grantID (POST
// …/scheduling/configurations) and returns it as Nylas answers, with its ID.
// Nylas offers no Idempotency-Key here, so the POST is retried only on 429
// and 503 (nothing was created); after a timeout, a dropped connection or a
// 5xx the configuration may exist: look for it by slug before creating
// again.
//
// Errors: an *Error for a non-2xx answer (400 with Nylas' message for a
// refused field or a slug in use); ctx's error when it ends first.
func (c *Client) CreateConfiguration(ctx context.Context, grantID string, cfg *Configuration) (*Configuration, error) {
	path, err := configurationsPath(grantID, "")
	if err != nil {
		return nil, fmt.Errorf("create configuration: %w", err)
	}
	out, err := c.configurationCall(ctx, http.MethodPost, path, encodeConfiguration(cfg))
	if err != nil {
		return nil, fmt.Errorf("create configuration in grant %q: %w", grantID, err)
	}
	return out, nil
}

// UpdateConfiguration writes desired's values of sections over current
// (PUT …/scheduling/configurations/{current.ID}; see
// encodeConfigurationUpdate for what is sent) and returns the answer.
// current must come from GetConfiguration or ListConfigurations so the keys
// notekeeper does not manage are sent back unchanged. A PUT is retried like
// a GET. Read the configuration back to know what Nylas took.
//
// Errors: as GetConfiguration.
func (c *Client) UpdateConfiguration(ctx context.Context, grantID string, current, desired *Configuration, sections []Section) (*Configuration, error) {
	path, err := configurationsPath(grantID, current.ID)
	if err == nil && current.ID == "" {
		err = errors.New("empty configuration id")
	}
	if err != nil {
		return nil, fmt.Errorf("update configuration: %w", err)
	}
	body, err := encodeConfigurationUpdate(desired, current, sections)
	if err != nil {
		return nil, fmt.Errorf("update configuration %q: %w", current.ID, err)
	}
	out, err := c.configurationCall(ctx, http.MethodPut, path, body)
	if err != nil {
		return nil, fmt.Errorf("update configuration %q: %w", current.ID, err)
	}
	return out, nil
}

func (c *Client) configurationCall(ctx context.Context, method, path string, body any) (*Configuration, error) {
	raw, err := c.send(ctx, method, path, nil, body)
	if err != nil {
		return nil, err
	}
	data, err := envelopeData(raw)
	if err == nil && data == nil {
		err = errNoData
	}
	if err != nil {
		return nil, err
	}
	return decodeConfiguration(data)
}
