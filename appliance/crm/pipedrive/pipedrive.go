// Package pipedrive is the CRM connector for Pipedrive's API v2 with an API
// token: persons matched by e-mail (exact search), their open deal, one
// activity of type "meeting" per meeting (done, with every matched person as
// a participant, the deal, the time and a note), tasks as activities of
// type "task".
//
// Exactly once: Pipedrive has no idempotent create and v2 activities take no
// custom fields, so the note carries connector.MarkerLine and FindMeeting
// scans the activities updated since the meeting began (an activity is
// created after its meeting, and update_time only grows) for it.
package pipedrive

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

// DefaultBaseURL is Pipedrive's API host; paths start with /api/v2.
const DefaultBaseURL = "https://api.pipedrive.com"

// noteLimit bounds the note; Pipedrive documents no limit (assumed).
const noteLimit = 60000

// maxPages bounds a marker scan (500 activities a page).
const maxPages = 20

// Client is the Pipedrive connector. Safe for concurrent use.
type Client struct {
	BaseURL  string // default DefaultBaseURL
	APIToken string // sent as x-api-token, never in the URL
	HTTP     *http.Client
	// Lag overrides the assumed lag of a fresh activity behind lists
	// (default 2 s), for tests.
	Lag time.Duration
	Now func() time.Time
}

var _ connector.CRM = (*Client)(nil)

func (c *Client) api() *outbound.Client {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	return &outbound.Client{BaseURL: base, Auth: outbound.Header("x-api-token", c.APIToken), HTTP: c.HTTP}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Name is "pipedrive".
func (c *Client) Name() string { return "pipedrive" }

// SearchLag is how long a fresh activity may be missing from lists.
func (c *Client) SearchLag() time.Duration {
	if c.Lag > 0 {
		return c.Lag
	}
	return 2 * time.Second
}

// RecordURL is "": the company's Pipedrive domain is not known.
func (c *Client) RecordURL(string) string { return "" }

// Probe lists one activity.
func (c *Client) Probe(ctx context.Context) error {
	if err := c.api().Call(ctx, "GET", "/api/v2/activities?limit=1", "", nil, nil); err != nil {
		return fmt.Errorf("pipedrive probe: %w", err)
	}
	return nil
}

// FindContacts searches each e-mail among persons (exact match on the email
// field), keeps persons that really have that address, and reads each one's
// most recently updated open deal.
func (c *Client) FindContacts(ctx context.Context, emails []string) (map[string]connector.Contact, error) {
	out := map[string]connector.Contact{}
	for _, email := range emails {
		email = strings.ToLower(email)
		q := url.Values{"term": {email}, "fields": {"email"}, "exact_match": {"true"}, "limit": {"10"}}
		var res struct {
			Data struct {
				Items []struct {
					Item struct {
						ID     connector.ID `json:"id"`
						Emails []string     `json:"emails"`
					} `json:"item"`
				} `json:"items"`
			} `json:"data"`
		}
		if err := c.api().Call(ctx, "GET", "/api/v2/persons/search?"+q.Encode(), "", nil, &res); err != nil {
			return nil, fmt.Errorf("search persons: %w", err)
		}
		for _, it := range res.Data.Items {
			if hasEmail(it.Item.Emails, email) {
				out[email] = connector.Contact{ID: string(it.Item.ID), Email: email}
				break
			}
		}
	}
	for email, ct := range out {
		q := url.Values{"person_id": {ct.ID}, "status": {"open"}, "sort_by": {"update_time"}, "sort_direction": {"desc"}, "limit": {"1"}}
		var res struct {
			Data []struct {
				ID connector.ID `json:"id"`
			} `json:"data"`
		}
		if err := c.api().Call(ctx, "GET", "/api/v2/deals?"+q.Encode(), "", nil, &res); err != nil {
			return nil, fmt.Errorf("open deals of person %s: %w", ct.ID, err)
		}
		if len(res.Data) > 0 {
			ct.DealID = string(res.Data[0].ID)
			out[email] = ct
		}
	}
	return out, nil
}

func hasEmail(list []string, email string) bool {
	for _, e := range list {
		if strings.EqualFold(strings.TrimSpace(e), email) {
			return true
		}
	}
	return false
}

// CreateContact adds a person with the participant's name and e-mail.
func (c *Client) CreateContact(ctx context.Context, p connector.Participant) (connector.Contact, error) {
	name := p.Name
	if name == "" {
		name = p.Email
	}
	in := map[string]any{"name": name, "emails": []map[string]any{{"value": p.Email, "primary": true, "label": "work"}}}
	var res struct {
		Data struct {
			ID connector.ID `json:"id"`
		} `json:"data"`
	}
	if err := c.api().Do(ctx, &outbound.Request{Method: "POST", Path: "/api/v2/persons", JSON: in, Out: &res, Create: true}); err != nil {
		return connector.Contact{}, fmt.Errorf("create person: %w", err)
	}
	return connector.Contact{ID: string(res.Data.ID), Email: p.Email}, nil
}

// activity is AddActivityRequest, reduced to what notekeeper sets.
type activity struct {
	Subject      string        `json:"subject"`
	Type         string        `json:"type"`
	Done         bool          `json:"done"`
	DueDate      string        `json:"due_date,omitempty"`
	DueTime      string        `json:"due_time,omitempty"`
	Duration     string        `json:"duration,omitempty"`
	DealID       *int64        `json:"deal_id,omitempty"`
	Participants []participant `json:"participants,omitempty"`
	Note         string        `json:"note"`
}

type participant struct {
	PersonID int64 `json:"person_id"`
	Primary  bool  `json:"primary"`
}

func number(kind, id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, apperr.Permanent(fmt.Errorf("pipedrive %s id %q is not a number", kind, id))
	}
	return n, nil
}

func (c *Client) links(a *activity, contacts []connector.Contact, dealID string) error {
	for i, ct := range contacts {
		n, err := number("person", ct.ID)
		if err != nil {
			return err
		}
		a.Participants = append(a.Participants, participant{PersonID: n, Primary: i == 0})
	}
	if dealID != "" {
		n, err := number("deal", dealID)
		if err != nil {
			return err
		}
		a.DealID = &n
	}
	return nil
}

func (c *Client) meetingActivity(m *connector.Meeting, contacts []connector.Contact, dealID string) (*activity, error) {
	a := &activity{Subject: connector.Cut(m.Title, "", 255), Type: "meeting", Done: true, Note: connector.Body(m, connector.HTML, noteLimit)}
	when := m.StartsAt
	if when.IsZero() {
		a.DueDate = c.now().UTC().Format(time.DateOnly)
	} else {
		a.DueDate, a.DueTime = when.UTC().Format(time.DateOnly), when.UTC().Format("15:04")
		if d := m.EndsAt.Sub(m.StartsAt); !m.EndsAt.IsZero() && d > 0 && d < 24*time.Hour {
			a.Duration = fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
		}
	}
	return a, c.links(a, contacts, dealID)
}

// CreateMeeting adds the meeting activity.
func (c *Client) CreateMeeting(ctx context.Context, m *connector.Meeting, contacts []connector.Contact, dealID string) (string, error) {
	a, err := c.meetingActivity(m, contacts, dealID)
	if err != nil {
		return "", err
	}
	return c.create(ctx, a)
}

func (c *Client) create(ctx context.Context, a *activity) (string, error) {
	var res struct {
		Data struct {
			ID connector.ID `json:"id"`
		} `json:"data"`
	}
	if err := c.api().Do(ctx, &outbound.Request{Method: "POST", Path: "/api/v2/activities", JSON: a, Out: &res, Create: true}); err != nil {
		return "", fmt.Errorf("create %s activity: %w", a.Type, err)
	}
	if res.Data.ID == "" {
		return "", fmt.Errorf("create %s activity: the answer has no id", a.Type)
	}
	return string(res.Data.ID), nil
}

// UpdateMeeting PATCHes the activity with the same fields.
func (c *Client) UpdateMeeting(ctx context.Context, id string, m *connector.Meeting, contacts []connector.Contact, dealID string) error {
	a, err := c.meetingActivity(m, contacts, dealID)
	if err != nil {
		return err
	}
	if err := c.api().Call(ctx, "PATCH", "/api/v2/activities/"+url.PathEscape(id), "", a, nil); err != nil {
		return fmt.Errorf("update activity: %w", err)
	}
	return nil
}

// scan looks through activities updated since since for one of type typ
// whose note carries marker.
func (c *Client) scan(ctx context.Context, since time.Time, typ, marker string) (string, error) {
	line := connector.MarkerLine(marker)
	cursor := ""
	for range maxPages {
		q := url.Values{"updated_since": {since.UTC().Format(time.RFC3339)}, "sort_by": {"update_time"}, "sort_direction": {"desc"}, "limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var res struct {
			Data []struct {
				ID   connector.ID `json:"id"`
				Type string       `json:"type"`
				Note string       `json:"note"`
			} `json:"data"`
			AdditionalData struct {
				NextCursor string `json:"next_cursor"`
			} `json:"additional_data"`
		}
		if err := c.api().Call(ctx, "GET", "/api/v2/activities?"+q.Encode(), "", nil, &res); err != nil {
			return "", fmt.Errorf("list activities: %w", err)
		}
		for _, a := range res.Data {
			if a.Type == typ && strings.Contains(a.Note, line) {
				return string(a.ID), nil
			}
		}
		if cursor = res.AdditionalData.NextCursor; cursor == "" {
			return "", nil
		}
	}
	return "", nil
}

// FindMeeting scans activities updated since an hour before the meeting
// began (30 days back when its time is unknown) for its marker.
func (c *Client) FindMeeting(ctx context.Context, m *connector.Meeting) (string, error) {
	since := c.now().Add(-30 * 24 * time.Hour)
	if !m.StartsAt.IsZero() {
		since = m.StartsAt.Add(-time.Hour)
	}
	return c.scan(ctx, since, "meeting", m.NotetakerID)
}

// FindTask scans the last 30 days of activities for the task's marker.
func (c *Client) FindTask(ctx context.Context, marker string) (string, error) {
	return c.scan(ctx, c.now().Add(-30*24*time.Hour), "task", marker)
}

// CreateTask adds an open activity of type task due in two days.
func (c *Client) CreateTask(ctx context.Context, marker, text, _ string, contacts []connector.Contact, dealID string) (string, error) {
	a := &activity{Subject: connector.Cut(text, "", 255), Type: "task", Done: false,
		DueDate: c.now().UTC().Add(48 * time.Hour).Format(time.DateOnly),
		Note:    "<p>" + htmlEscape(connector.Cut(text, "", noteLimit/2)) + "</p><p>" + connector.MarkerLine(marker) + "</p>"}
	if err := c.links(a, contacts, dealID); err != nil {
		return "", err
	}
	return c.create(ctx, a)
}

var htmlEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace
