package nylas

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Participant is a person on an event. Status is the RSVP ("yes", "no",
// "maybe", "noreply"); it is empty for an organizer.
type Participant struct {
	Email  string `json:"email"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// Event is a calendar event as GET …/events/{id} returns it, reduced to
// what notekeeper reads. Unknown fields are ignored.
type Event struct {
	ID            string `json:"id"`
	GrantID       string `json:"grant_id"`
	CalendarID    string `json:"calendar_id"`
	ICalUID       string `json:"ical_uid"`
	MasterEventID string `json:"master_event_id"` // set on occurrences of a recurring event
	Title         string `json:"title"`
	// When is the event's time (when.go): a timed event's start and end
	// (Unix seconds, zero for all-day events and when absent), or its
	// date(s); Span gives both as times.
	When         When          `json:"when"`
	Organizer    Participant   `json:"organizer"`
	Participants []Participant `json:"participants"`
	// Notetaker is the bot attached to the event, nil when none is.
	Notetaker *struct {
		ID string `json:"id"`
	} `json:"notetaker"`
}

// GetEvent returns event eventID of grantID's calendar calendarID
// (GET /v3/grants/{grant}/events/{event}?calendar_id=…). The API requires
// the calendar ID; "primary" names the grant's main calendar.
//
// Errors: ErrNotFound (through errors.Is) when Nylas answers 404; an *Error
// for any other non-2xx answer once retries are spent; an error without a
// request when grantID or eventID is empty, "." or "..", or calendarID is
// empty; ctx's error when it ends first.
func (c *Client) GetEvent(ctx context.Context, grantID, eventID, calendarID string) (*Event, error) {
	g, err := segment("grant id", grantID)
	if err != nil {
		return nil, fmt.Errorf("get event: %w", err)
	}
	e, err := segment("event id", eventID)
	if err != nil {
		return nil, fmt.Errorf("get event: %w", err)
	}
	if calendarID == "" {
		return nil, fmt.Errorf("get event %q: %w", eventID, errNoCalendar)
	}
	var ev Event
	path := "/v3/grants/" + g + "/events/" + e
	if err := c.object(ctx, http.MethodGet, path, url.Values{"calendar_id": {calendarID}}, nil, &ev); err != nil {
		return nil, fmt.Errorf("get event %q: %w", eventID, err)
	}
	return &ev, nil
}

var errNoCalendar = errors.New("calendar_id is required")
