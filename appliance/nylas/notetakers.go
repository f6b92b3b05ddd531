package nylas

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// maxListLimit is the largest page the Notetaker list accepts.
const maxListLimit = 200

// Notetaker is a Notetaker bot as GET …/notetakers/{id} and the list return
// it. Fields Nylas leaves out stay zero; unknown fields are ignored.
type Notetaker struct {
	ID      string `json:"id"`
	GrantID string `json:"grant_id"` // empty for a standalone bot
	Name    string `json:"name"`     // the bot's display name
	// State and Status carry the same value (Nylas sends both, and has
	// renamed one to the other before); read CurrentState.
	State           string `json:"state"`
	Status          string `json:"status"`
	MeetingState    string `json:"meeting_state"`
	MeetingProvider string `json:"meeting_provider"` // "Google Meet", "Zoom Meeting", "Microsoft Teams", …
	MeetingLink     string `json:"meeting_link"`
	CalendarID      string `json:"calendar_id"`
	JoinTime        int64  `json:"join_time"`  // Unix seconds
	CreatedAt       int64  `json:"created_at"` // Unix seconds
	Event           struct {
		EventID       string `json:"event_id"`
		ICalUID       string `json:"ical_uid"`
		MasterEventID string `json:"master_event_id"`
	} `json:"event"`
	// MeetingSettings says which media the bot was asked to produce: a
	// kind that is off will never appear in Media.
	MeetingSettings MeetingSettings `json:"meeting_settings"`
}

// MeetingSettings is what a Notetaker records and generates.
type MeetingSettings struct {
	VideoRecording           bool `json:"video_recording"`
	AudioRecording           bool `json:"audio_recording"`
	Transcription            bool `json:"transcription"`
	Summary                  bool `json:"summary"`
	ActionItems              bool `json:"action_items"`
	LeaveAfterSilenceSeconds int  `json:"leave_after_silence_seconds"`
}

// UnmarshalJSON decodes a Notetaker, also accepting the event ID at the top
// level (event_id), where some REST answers put it, when event is absent.
func (n *Notetaker) UnmarshalJSON(b []byte) error {
	type plain Notetaker
	var v struct {
		plain
		TopEventID string `json:"event_id"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = Notetaker(v.plain)
	if n.Event.EventID == "" {
		n.Event.EventID = v.TopEventID
	}
	return nil
}

// CurrentState returns State, or Status when State is empty.
func (n *Notetaker) CurrentState() string {
	if n.State != "" {
		return n.State
	}
	return n.Status
}

// MediaFile is one file of a Notetaker's media. URL is pre-signed and lives
// TTL seconds from CreatedAt: send no API key to it. ExpiresAt is when Nylas
// deletes the file itself. Times are Unix seconds; Duration (recordings
// only) is in seconds.
type MediaFile struct {
	URL       string `json:"url"`
	Name      string `json:"name"`
	Type      string `json:"type"` // MIME type, e.g. video/mp4
	Size      int64  `json:"size"` // bytes
	CreatedAt int64  `json:"created_at"`
	ExpiresAt int64  `json:"expires_at"`
	TTL       int64  `json:"ttl"`
	Duration  int64  `json:"duration"`
}

// UnmarshalJSON decodes a MediaFile, accepting its numbers also as numeric
// strings (the webhook sends recording_duration as one) or as floats.
func (f *MediaFile) UnmarshalJSON(b []byte) error {
	var v struct {
		URL       string  `json:"url"`
		Name      string  `json:"name"`
		Type      string  `json:"type"`
		Size      flexInt `json:"size"`
		CreatedAt flexInt `json:"created_at"`
		ExpiresAt flexInt `json:"expires_at"`
		TTL       flexInt `json:"ttl"`
		Duration  flexInt `json:"duration"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = MediaFile{URL: v.URL, Name: v.Name, Type: v.Type, Size: int64(v.Size), CreatedAt: int64(v.CreatedAt),
		ExpiresAt: int64(v.ExpiresAt), TTL: int64(v.TTL), Duration: int64(v.Duration)}
	return nil
}

// Media is the answer of GET …/notetakers/{id}/media. A file is nil when
// its kind was not enabled or is not ready.
type Media struct {
	Recording   *MediaFile `json:"recording"`
	Transcript  *MediaFile `json:"transcript"`
	Summary     *MediaFile `json:"summary"`
	ActionItems *MediaFile `json:"action_items"`
	Thumbnail   *MediaFile `json:"thumbnail"`
}

// File returns the file of kind ("recording", "transcript", "summary",
// "action_items" or "thumbnail"), or nil when it is absent or kind is
// unknown.
func (m *Media) File(kind string) *MediaFile {
	switch kind {
	case "recording":
		return m.Recording
	case "transcript":
		return m.Transcript
	case "summary":
		return m.Summary
	case "action_items":
		return m.ActionItems
	case "thumbnail":
		return m.Thumbnail
	}
	return nil
}

// notetakerPath is the path of Notetaker id: under its grant, or standalone
// (/v3/notetakers/{id}) when grantID is empty.
func notetakerPath(grantID, id string) (string, error) {
	idSeg, err := segment("notetaker id", id)
	if err != nil {
		return "", err
	}
	base, err := notetakersPath(grantID)
	if err != nil {
		return "", err
	}
	return base + "/" + idSeg, nil
}

// notetakersPath is the collection of a grant's Notetakers, or of
// standalone ones when grantID is empty.
func notetakersPath(grantID string) (string, error) {
	if grantID == "" {
		return "/v3/notetakers", nil
	}
	g, err := segment("grant id", grantID)
	if err != nil {
		return "", err
	}
	return "/v3/grants/" + g + "/notetakers", nil
}

// GetNotetaker returns Notetaker id of grantID, or the standalone Notetaker
// id when grantID is empty (GET /v3/notetakers/{id}).
//
// Errors: ErrNotFound (through errors.Is) when Nylas answers 404; an *Error
// for any other non-2xx answer once retries are spent; an error without a
// request when id is empty, "." or ".."; ctx's error when it ends first.
func (c *Client) GetNotetaker(ctx context.Context, grantID, id string) (*Notetaker, error) {
	path, err := notetakerPath(grantID, id)
	if err != nil {
		return nil, fmt.Errorf("get notetaker: %w", err)
	}
	var n Notetaker
	if err := c.object(ctx, http.MethodGet, path, nil, nil, &n); err != nil {
		return nil, fmt.Errorf("get notetaker %q: %w", id, err)
	}
	return &n, nil
}

// GetMedia returns fresh pre-signed links to Notetaker id's media, with the
// same grant rule as GetNotetaker. A Notetaker without media yet gives an
// empty Media, or whatever error Nylas answers with.
//
// Errors: as GetNotetaker.
func (c *Client) GetMedia(ctx context.Context, grantID, id string) (*Media, error) {
	path, err := notetakerPath(grantID, id)
	if err != nil {
		return nil, fmt.Errorf("get media: %w", err)
	}
	data, err := c.get(ctx, path+"/media", nil)
	if err != nil {
		return nil, fmt.Errorf("get media of notetaker %q: %w", id, err)
	}
	var m Media
	if data != nil {
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("get media of notetaker %q: decode: %w", id, err)
		}
	}
	return &m, nil
}

// ListQuery selects Notetakers. Zero fields are not sent.
type ListQuery struct {
	Limit         int    // page size; more than 200 is sent as 200
	PageToken     string // next_cursor of the previous page
	State         string // e.g. "media_available"
	JoinTimeStart int64  // Unix seconds: join time at or after
	JoinTimeEnd   int64  // Unix seconds: join time at or before
}

// values is q as query parameters.
func (q ListQuery) values() url.Values {
	v := url.Values{}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(min(q.Limit, maxListLimit)))
	}
	if q.PageToken != "" {
		v.Set("page_token", q.PageToken)
	}
	if q.State != "" {
		v.Set("state", q.State)
	}
	if q.JoinTimeStart > 0 {
		v.Set("join_time_start", strconv.FormatInt(q.JoinTimeStart, 10))
	}
	if q.JoinTimeEnd > 0 {
		v.Set("join_time_end", strconv.FormatInt(q.JoinTimeEnd, 10))
	}
	return v
}

// ListNotetakers returns one page of grantID's Notetakers matching q
// (GET /v3/grants/{grant}/notetakers; standalone ones, GET /v3/notetakers,
// when grantID is empty) and the cursor of the next page, "" after the last.
// Pass the cursor back as q.PageToken, or use EachNotetaker.
//
// Errors: an *Error for a non-2xx answer once retries are spent; an error
// without a request when grantID is "." or ".."; ctx's error when it ends
// first.
func (c *Client) ListNotetakers(ctx context.Context, grantID string, q ListQuery) (items []Notetaker, nextCursor string, err error) {
	path, err := notetakersPath(grantID)
	if err != nil {
		return nil, "", fmt.Errorf("list notetakers: %w", err)
	}
	raw, err := c.send(ctx, http.MethodGet, path, q.values(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", listing(grantID), err)
	}
	var page struct {
		Data       []Notetaker `json:"data"`
		NextCursor string      `json:"next_cursor"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, "", fmt.Errorf("%s: decode: %w", listing(grantID), err)
	}
	return page.Data, page.NextCursor, nil
}

// listing names a Notetaker listing in errors.
func listing(grantID string) string {
	if grantID == "" {
		return "list standalone notetakers"
	}
	return fmt.Sprintf("list notetakers of grant %q", grantID)
}

// EachNotetaker calls fn for every Notetaker of grantID matching q, page
// after page from q.PageToken, passing each next_cursor back as page_token.
// It stops at the first error of fn and returns that error unwrapped.
//
// Errors: fn's error; ListNotetakers' errors; an error when Nylas hands back
// a cursor it has already given (or q.PageToken), which would otherwise
// loop for ever.
func (c *Client) EachNotetaker(ctx context.Context, grantID string, q ListQuery, fn func(*Notetaker) error) error {
	seen := map[string]bool{}
	if q.PageToken != "" {
		seen[q.PageToken] = true
	}
	for {
		items, next, err := c.ListNotetakers(ctx, grantID, q)
		if err != nil {
			return err
		}
		for i := range items {
			if err := fn(&items[i]); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		if seen[next] {
			return fmt.Errorf("%s: the API repeated a page cursor", listing(grantID))
		}
		seen[next] = true
		q.PageToken = next
	}
}

// HistoryEvent is one entry of a Notetaker's history: what happened
// (EventType, e.g. "notetaker.meeting_state") and when (CreatedAt, Unix
// seconds), with Data holding the whole Notetaker object as it was then.
type HistoryEvent struct {
	CreatedAt int64           `json:"created_at"`
	EventType string          `json:"event_type"`
	Data      json.RawMessage `json:"data"`
}

// UnmarshalJSON decodes a HistoryEvent tolerantly: created_at may be a
// number or a numeric string, and "type" stands in for a missing
// event_type.
func (h *HistoryEvent) UnmarshalJSON(b []byte) error {
	var v struct {
		CreatedAt flexInt         `json:"created_at"`
		EventType string          `json:"event_type"`
		Type      string          `json:"type"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*h = HistoryEvent{CreatedAt: int64(v.CreatedAt), EventType: cmp.Or(v.EventType, v.Type), Data: v.Data}
	return nil
}

// History returns Notetaker id's history events in the order Nylas gives
// them (most recent first, per its docs), with the same grant rule as
// GetNotetaker. The answer is {data:{events:[…]}}; a bare list in data is
// accepted too.
//
// Errors: as GetNotetaker.
func (c *Client) History(ctx context.Context, grantID, id string) ([]HistoryEvent, error) {
	path, err := notetakerPath(grantID, id)
	if err != nil {
		return nil, fmt.Errorf("notetaker history: %w", err)
	}
	data, err := c.get(ctx, path+"/history", nil)
	if err != nil {
		return nil, fmt.Errorf("history of notetaker %q: %w", id, err)
	}
	if data == nil {
		return nil, nil
	}
	var events []HistoryEvent
	if d := bytes.TrimSpace(data); len(d) > 0 && d[0] == '[' {
		err = json.Unmarshal(d, &events)
	} else {
		var wrapped struct {
			Events []HistoryEvent `json:"events"`
		}
		err = json.Unmarshal(d, &wrapped)
		events = wrapped.Events
	}
	if err != nil {
		return nil, fmt.Errorf("history of notetaker %q: decode: %w", id, err)
	}
	return events, nil
}

// flexInt decodes a JSON number (integer or not), a string holding one, or
// null/"" as 0.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	if len(b) == 0 || string(b) == "null" {
		*n = 0
		return nil
	}
	if i, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*n = flexInt(i)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("not a number: %q", b)
	}
	*n = flexInt(f)
	return nil
}
