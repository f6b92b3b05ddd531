package nylas

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Notetaker is a Notetaker bot as the API returns it. Unknown fields are
// ignored.
type Notetaker struct {
	ID              string `json:"id"`
	GrantID         string `json:"grant_id"`
	State           string `json:"state"`
	Status          string `json:"status"`
	MeetingState    string `json:"meeting_state"`
	MeetingProvider string `json:"meeting_provider"`
	MeetingLink     string `json:"meeting_link"`
	CalendarID      string `json:"calendar_id"`
	JoinTime        int64  `json:"join_time"`
	Event           struct {
		EventID       string `json:"event_id"`
		ICalUID       string `json:"ical_uid"`
		MasterEventID string `json:"master_event_id"`
	} `json:"event"`
}

// CurrentState is State, else Status (Nylas sends both).
func (n *Notetaker) CurrentState() string {
	if n.State != "" {
		return n.State
	}
	return n.Status
}

// MediaFile is one file of a Notetaker's media, with a signed URL that
// lives TTL seconds; ExpiresAt is when Nylas deletes the file.
type MediaFile struct {
	URL       string `json:"url"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Size      int64  `json:"size"`
	CreatedAt int64  `json:"created_at"`
	ExpiresAt int64  `json:"expires_at"`
	TTL       int64  `json:"ttl"`
	Duration  int64  `json:"duration"`
}

// Media is GET …/media: each file present only when enabled and ready.
type Media struct {
	Recording   *MediaFile `json:"recording"`
	Transcript  *MediaFile `json:"transcript"`
	Summary     *MediaFile `json:"summary"`
	ActionItems *MediaFile `json:"action_items"`
	Thumbnail   *MediaFile `json:"thumbnail"`
}

// File returns the file of kind (recording, transcript, summary,
// action_items, thumbnail), or nil.
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

// GetNotetaker returns a Notetaker: under grantID, or standalone when it is
// empty. A 404 matches ErrNotFound.
func (c *Client) GetNotetaker(ctx context.Context, grantID, id string) (*Notetaker, error) {
	var n Notetaker
	if err := c.do(ctx, http.MethodGet, notetakerPath(grantID, id), nil, nil, &n); err != nil {
		return nil, fmt.Errorf("get notetaker %s: %w", id, err)
	}
	return &n, nil
}

// GetMedia returns fresh signed links to a Notetaker's media (grant or
// standalone as for GetNotetaker).
func (c *Client) GetMedia(ctx context.Context, grantID, id string) (*Media, error) {
	var m Media
	if err := c.do(ctx, http.MethodGet, notetakerPath(grantID, id)+"/media", nil, nil, &m); err != nil {
		return nil, fmt.Errorf("get media of %s: %w", id, err)
	}
	return &m, nil
}

// ListQuery filters a Notetaker list; zero fields are not sent.
type ListQuery struct {
	Limit         int // at most 200
	PageToken     string
	State         string
	JoinTimeStart int64
	JoinTimeEnd   int64
}

func (q ListQuery) values() url.Values {
	v := url.Values{}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(min(q.Limit, 200)))
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

// ListNotetakers returns one page of a grant's Notetakers and the cursor of
// the next page ("" on the last).
func (c *Client) ListNotetakers(ctx context.Context, grantID string, q ListQuery) ([]Notetaker, string, error) {
	raw := struct {
		Data       []Notetaker `json:"data"`
		NextCursor string      `json:"next_cursor"`
	}{}
	path := "/v3/grants/" + seg(grantID) + "/notetakers"
	body, err := c.page(ctx, path, q.values())
	if err != nil {
		return nil, "", fmt.Errorf("list notetakers of %s: %w", grantID, err)
	}
	if err := decodeJSON(body, &raw); err != nil {
		return nil, "", fmt.Errorf("list notetakers of %s: %w", grantID, err)
	}
	return raw.Data, raw.NextCursor, nil
}

// EachNotetaker calls fn for every Notetaker of a grant matching q, page
// after page, until fn fails or the last page. A cursor seen twice is an
// error rather than an endless loop.
func (c *Client) EachNotetaker(ctx context.Context, grantID string, q ListQuery, fn func(*Notetaker) error) error {
	seen := map[string]bool{}
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
			return errors.New("list notetakers: the API repeated a page cursor")
		}
		seen[next] = true
		q.PageToken = next
	}
}

// HistoryEvent is one entry of a Notetaker's history.
type HistoryEvent struct {
	CreatedAt int64          `json:"created_at"`
	EventType string         `json:"event_type"`
	Data      map[string]any `json:"data"`
}

// History returns a Notetaker's history events.
func (c *Client) History(ctx context.Context, grantID, id string) ([]HistoryEvent, error) {
	var d struct {
		Events []HistoryEvent `json:"events"`
	}
	if err := c.do(ctx, http.MethodGet, notetakerPath(grantID, id)+"/history", nil, nil, &d); err != nil {
		return nil, fmt.Errorf("history of %s: %w", id, err)
	}
	return d.Events, nil
}
