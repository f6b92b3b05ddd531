package nylas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Participant is a person on an event.
type Participant struct {
	Email  string `json:"email"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// Event is a calendar event.
type Event struct {
	ID           string        `json:"id"`
	GrantID      string        `json:"grant_id"`
	CalendarID   string        `json:"calendar_id"`
	Title        string        `json:"title"`
	Organizer    Participant   `json:"organizer"`
	Participants []Participant `json:"participants"`
	Notetaker    *struct {
		ID string `json:"id"`
	} `json:"notetaker"`
}

// GetEvent returns an event of a grant's calendar. calendarID is required
// by the API; the event ID is escaped into the path.
func (c *Client) GetEvent(ctx context.Context, grantID, eventID, calendarID string) (*Event, error) {
	if calendarID == "" {
		return nil, errors.New("get event: calendar_id is required")
	}
	var e Event
	path := "/v3/grants/" + seg(grantID) + "/events/" + seg(eventID)
	if err := c.do(ctx, http.MethodGet, path, url.Values{"calendar_id": {calendarID}}, nil, &e); err != nil {
		return nil, fmt.Errorf("get event %s: %w", eventID, err)
	}
	return &e, nil
}

// page GETs path with q and returns the whole body (for paginated lists,
// whose cursor sits beside data).
func (c *Client) page(ctx context.Context, path string, q url.Values) (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.do(ctx, http.MethodGet, path, q, nil, rawBody{&raw})
	return raw, err
}

// rawBody makes do hand over the whole body instead of data.
type rawBody struct{ p *json.RawMessage }

func decodeJSON(b []byte, v any) error { return json.Unmarshal(b, v) }
