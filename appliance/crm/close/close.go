// Package close is the CRM connector for Close's API v1 with an API key:
// contacts matched by e-mail through lead search, their lead and its active
// opportunity, and one note on the lead per meeting (Close's API creates no
// meeting activities with an API key: meetings come from calendar sync, and
// the meeting integration endpoint is for OAuth apps), updated in place.
//
// Exactly once: the note's HTML carries connector.MarkerLine, and
// FindMeeting scans the lead's notes for it.
package close

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

// DefaultBaseURL is Close's API host; paths start with /api/v1.
const DefaultBaseURL = "https://api.close.com"

// noteLimit bounds note_html; Close documents no limit (assumed).
const noteLimit = 60000

// maxPages bounds a marker scan of a lead's notes (100 a page).
const maxPages = 10

// Client is the Close connector. Safe for concurrent use.
type Client struct {
	BaseURL string // default DefaultBaseURL
	APIKey  string // HTTP Basic user name, empty password
	HTTP    *http.Client
	// Lag overrides the assumed lag of lead search behind writes (default
	// 5 s), for tests.
	Lag time.Duration
}

var _ connector.CRM = (*Client)(nil)

func (c *Client) api() *outbound.Client {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	return &outbound.Client{BaseURL: base, Auth: outbound.Basic(c.APIKey, ""), HTTP: c.HTTP}
}

// Name is "close".
func (c *Client) Name() string { return "close" }

// SearchLag is how long Close's search index may trail a write.
func (c *Client) SearchLag() time.Duration {
	if c.Lag > 0 {
		return c.Lag
	}
	return 5 * time.Second
}

// RecordURL is "": a note has no page of its own.
func (c *Client) RecordURL(string) string { return "" }

// Probe reads the key's user.
func (c *Client) Probe(ctx context.Context) error {
	if err := c.api().Call(ctx, "GET", "/api/v1/me/", "", nil, nil); err != nil {
		return fmt.Errorf("close probe: %w", err)
	}
	return nil
}

// FindContacts searches leads by contact e-mail and keeps the contact that
// has exactly that address; its lead is CompanyID and the lead's most
// recently updated active opportunity DealID.
func (c *Client) FindContacts(ctx context.Context, emails []string) (map[string]connector.Contact, error) {
	out := map[string]connector.Contact{}
	opps := map[string]string{}
	for _, email := range emails {
		email = strings.ToLower(email)
		if strings.ContainsAny(email, `"\`) {
			continue // cannot be quoted in a search query; left unmatched
		}
		q := url.Values{"query": {`email_address:"` + email + `"`}, "_fields": {"id,display_name,contacts"}, "_limit": {"10"}}
		var res struct {
			Data []struct {
				ID       string `json:"id"`
				Contacts []struct {
					ID     string `json:"id"`
					LeadID string `json:"lead_id"`
					Emails []struct {
						Email string `json:"email"`
					} `json:"emails"`
				} `json:"contacts"`
			} `json:"data"`
		}
		if err := c.api().Call(ctx, "GET", "/api/v1/lead/?"+q.Encode(), "", nil, &res); err != nil {
			return nil, fmt.Errorf("search leads: %w", err)
		}
	leads:
		for _, lead := range res.Data {
			for _, ct := range lead.Contacts {
				for _, e := range ct.Emails {
					if strings.EqualFold(strings.TrimSpace(e.Email), email) {
						out[email] = connector.Contact{ID: ct.ID, Email: email, CompanyID: lead.ID}
						break leads
					}
				}
			}
		}
	}
	for email, ct := range out {
		deal, ok := opps[ct.CompanyID]
		if !ok {
			q := url.Values{"lead_id": {ct.CompanyID}, "status_type": {"active"}, "_order_by": {"-date_updated"}, "_limit": {"1"}}
			var res struct {
				Data []struct {
					ID string `json:"id"`
				} `json:"data"`
			}
			if err := c.api().Call(ctx, "GET", "/api/v1/opportunity/?"+q.Encode(), "", nil, &res); err != nil {
				return nil, fmt.Errorf("opportunities of %s: %w", ct.CompanyID, err)
			}
			if len(res.Data) > 0 {
				deal = res.Data[0].ID
			}
			opps[ct.CompanyID] = deal
		}
		ct.DealID = deal
		out[email] = ct
	}
	return out, nil
}

// CreateContact creates a contact without a lead, so Close makes a lead
// named after it.
func (c *Client) CreateContact(ctx context.Context, p connector.Participant) (connector.Contact, error) {
	name := p.Name
	if name == "" {
		name = p.Email
	}
	in := map[string]any{"name": name, "emails": []map[string]string{{"email": p.Email, "type": "office"}}}
	var res struct {
		ID     string `json:"id"`
		LeadID string `json:"lead_id"`
	}
	if err := c.api().Do(ctx, &outbound.Request{Method: "POST", Path: "/api/v1/contact/", JSON: in, Out: &res, Create: true}); err != nil {
		return connector.Contact{}, fmt.Errorf("create contact: %w", err)
	}
	return connector.Contact{ID: res.ID, Email: p.Email, CompanyID: res.LeadID}, nil
}

// noteOn picks the note's lead and contact: the first contact that has a
// lead. Close notes belong to one lead; the other contacts' leads get none.
func noteOn(contacts []connector.Contact) (lead, contact string) {
	for _, ct := range contacts {
		if ct.CompanyID != "" {
			return ct.CompanyID, ct.ID
		}
	}
	return "", ""
}

func note(m *connector.Meeting, lead, contact string) map[string]any {
	n := map[string]any{"lead_id": lead, "title": m.Title, "note_html": connector.Body(m, connector.HTML, noteLimit)}
	if contact != "" {
		n["contact_id"] = contact
	}
	if !m.StartsAt.IsZero() {
		n["activity_at"] = m.StartsAt.UTC().Format(time.RFC3339)
	}
	return n
}

// CreateMeeting creates the note on the first contact's lead. With no
// contact there is no lead to hold it: connector.ErrUnsupported.
func (c *Client) CreateMeeting(ctx context.Context, m *connector.Meeting, contacts []connector.Contact, _ string) (string, error) {
	lead, contact := noteOn(contacts)
	if lead == "" {
		return "", fmt.Errorf("close: a note needs a lead, and no participant is a Close contact: %w", connector.ErrUnsupported)
	}
	var res struct {
		ID string `json:"id"`
	}
	if err := c.api().Do(ctx, &outbound.Request{Method: "POST", Path: "/api/v1/activity/note/", JSON: note(m, lead, contact), Out: &res, Create: true}); err != nil {
		return "", fmt.Errorf("create note: %w", err)
	}
	if res.ID == "" {
		return "", fmt.Errorf("create note: the answer has no id")
	}
	return res.ID, nil
}

// UpdateMeeting rewrites the note (Close's PUT changes only the fields
// given).
func (c *Client) UpdateMeeting(ctx context.Context, id string, m *connector.Meeting, contacts []connector.Contact, _ string) error {
	lead, contact := noteOn(contacts)
	n := note(m, lead, contact)
	if lead == "" {
		delete(n, "lead_id")
	}
	if err := c.api().Call(ctx, "PUT", "/api/v1/activity/note/"+url.PathEscape(id)+"/", "", n, nil); err != nil {
		return fmt.Errorf("update note: %w", err)
	}
	return nil
}

// FindMeeting scans the notes of the participants' leads for the marker.
func (c *Client) FindMeeting(ctx context.Context, m *connector.Meeting) (string, error) {
	emails := make([]string, len(m.Participants))
	for i, p := range m.Participants {
		emails[i] = p.Email
	}
	contacts, err := c.FindContacts(ctx, emails)
	if err != nil {
		return "", err
	}
	line := connector.MarkerLine(m.NotetakerID)
	seen := map[string]bool{}
	for _, p := range m.Participants {
		lead := contacts[p.Email].CompanyID
		if lead == "" || seen[lead] {
			continue
		}
		seen[lead] = true
		for page := range maxPages {
			q := url.Values{"lead_id": {lead}, "_limit": {"100"}, "_skip": {strconv.Itoa(page * 100)}}
			var res struct {
				HasMore bool `json:"has_more"`
				Data    []struct {
					ID       string `json:"id"`
					NoteHTML string `json:"note_html"`
					Note     string `json:"note"`
				} `json:"data"`
			}
			if err := c.api().Call(ctx, "GET", "/api/v1/activity/note/?"+q.Encode(), "", nil, &res); err != nil {
				return "", fmt.Errorf("list notes: %w", err)
			}
			for _, n := range res.Data {
				if strings.Contains(n.NoteHTML, line) || strings.Contains(n.Note, line) {
					return n.ID, nil
				}
			}
			if !res.HasMore {
				break
			}
		}
	}
	return "", nil
}

// FindTask: tasks from action items are not written to Close.
func (c *Client) FindTask(context.Context, string) (string, error) {
	return "", fmt.Errorf("close: tasks: %w", connector.ErrUnsupported)
}

// CreateTask: tasks from action items are not written to Close.
func (c *Client) CreateTask(context.Context, string, string, string, []connector.Contact, string) (string, error) {
	return "", fmt.Errorf("close: tasks: %w", connector.ErrUnsupported)
}
