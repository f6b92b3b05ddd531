// Package hubspot is the CRM connector for HubSpot's CRM API v3/v4 with a
// private-app token: contacts matched by e-mail through the search API, their
// deals and company through v4 associations, one `meetings` object per
// meeting (associated with every matched contact, the deal and the company),
// tasks from action items.
//
// Exactly once: HubSpot has no idempotent create for engagements, so each
// record carries the custom property notekeeper_id (created on first use when
// the token may, else by the operator) and FindMeeting searches it. The
// search index lags behind creates (~10 s), which SearchLag tells the caller.
// A meeting HubSpot's own calendar sync logged (same hs_i_cal_uid, close in
// time, no marker yet) is adopted and updated instead of adding a second.
package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

// DefaultBaseURL is HubSpot's API.
const DefaultBaseURL = "https://api.hubapi.com"

// MarkerProperty is the custom property holding the Notetaker ID on
// meetings (and the task marker on tasks).
const MarkerProperty = "notekeeper_id"

// Association type IDs (HUBSPOT_DEFINED), from CRM-APIS.md §1.3/§1.5:
// meeting→contact 200, meeting→company 188, meeting→deal 212; task→contact
// 204, task→deal 216.
const (
	meetingToContact = 200
	meetingToCompany = 188
	meetingToDeal    = 212
	taskToContact    = 204
	taskToDeal       = 216
)

// bodyLimit keeps hs_meeting_body under HubSpot's 65,536-character limit.
const bodyLimit = 65000

// Client is the HubSpot connector. Safe for concurrent use.
type Client struct {
	BaseURL string // default DefaultBaseURL
	Token   string // private-app access token
	HTTP    *http.Client
	// PortalID, when known, lets RecordURL link the meeting in HubSpot's UI.
	PortalID string
	// Lag overrides the search index lag (default 10 s), for tests.
	Lag time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu      sync.Mutex
	ensured map[string]bool // object type → marker property known to exist
}

var _ connector.CRM = (*Client)(nil)

func (c *Client) api() *outbound.Client {
	return &outbound.Client{BaseURL: cmpOr(c.BaseURL, DefaultBaseURL), Auth: outbound.Bearer(c.Token), HTTP: c.HTTP}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Name is "hubspot".
func (c *Client) Name() string { return "hubspot" }

// SearchLag is HubSpot's search index lag behind a create.
func (c *Client) SearchLag() time.Duration {
	if c.Lag > 0 {
		return c.Lag
	}
	return 10 * time.Second
}

// RecordURL links the meeting in HubSpot's UI when PortalID is set.
func (c *Client) RecordURL(id string) string {
	if c.PortalID == "" || id == "" {
		return ""
	}
	return "https://app.hubspot.com/contacts/" + c.PortalID + "/record/0-47/" + id
}

// Probe reads one contact.
func (c *Client) Probe(ctx context.Context) error {
	if err := c.api().Call(ctx, "GET", "/crm/v3/objects/contacts?limit=1", "", nil, nil); err != nil {
		return fmt.Errorf("hubspot probe: %w", err)
	}
	return nil
}

// object is SimplePublicObject.
type object struct {
	ID         connector.ID      `json:"id"`
	Properties map[string]string `json:"properties"`
}

type filter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        string   `json:"value,omitempty"`
	Values       []string `json:"values,omitempty"`
}

type filterGroup struct {
	Filters []filter `json:"filters"`
}

// search runs POST /crm/v3/objects/{object}/search (one page).
func (c *Client) search(ctx context.Context, obj string, groups []filterGroup, props []string) ([]object, error) {
	var res struct {
		Results []object `json:"results"`
	}
	in := map[string]any{"filterGroups": groups, "properties": props, "limit": 100}
	if err := c.api().Call(ctx, "POST", "/crm/v3/objects/"+obj+"/search", "", in, &res); err != nil {
		return nil, fmt.Errorf("search %s: %w", obj, err)
	}
	return res.Results, nil
}

// FindContacts searches contacts whose email is IN the list (HubSpot wants
// IN values lower case), then reads their deals and companies.
func (c *Client) FindContacts(ctx context.Context, emails []string) (map[string]connector.Contact, error) {
	out := map[string]connector.Contact{}
	for chunk := range slices.Chunk(emails, 100) {
		vals := make([]string, len(chunk))
		for i, e := range chunk {
			vals[i] = strings.ToLower(e)
		}
		res, err := c.search(ctx, "contacts", []filterGroup{{Filters: []filter{{PropertyName: "email", Operator: "IN", Values: vals}}}}, []string{"email", "firstname", "lastname"})
		if err != nil {
			return nil, err
		}
		for _, o := range res {
			email := strings.ToLower(strings.TrimSpace(o.Properties["email"]))
			if slices.Contains(vals, email) {
				if _, dup := out[email]; !dup {
					out[email] = connector.Contact{ID: string(o.ID), Email: email}
				}
			}
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	var ids []string
	for _, ct := range out {
		ids = append(ids, ct.ID)
	}
	slices.Sort(ids)
	deals, err := c.associated(ctx, "contacts", "deals", ids)
	if err != nil {
		return nil, err
	}
	companies, err := c.associated(ctx, "contacts", "companies", ids)
	if err != nil {
		return nil, err
	}
	open, err := c.openDeals(ctx, deals)
	if err != nil {
		return nil, err
	}
	for email, ct := range out {
		for _, d := range open { // most recently modified first
			if slices.Contains(deals[ct.ID], d) {
				ct.DealID = d
				break
			}
		}
		if cs := companies[ct.ID]; len(cs) > 0 {
			ct.CompanyID = cs[0]
		}
		out[email] = ct
	}
	return out, nil
}

// associated reads from→to associations of ids (v4 batch read).
func (c *Client) associated(ctx context.Context, from, to string, ids []string) (map[string][]string, error) {
	inputs := make([]map[string]string, len(ids))
	for i, id := range ids {
		inputs[i] = map[string]string{"id": id}
	}
	var res struct {
		Results []struct {
			From struct {
				ID connector.ID `json:"id"`
			} `json:"from"`
			To []struct {
				ToObjectID connector.ID `json:"toObjectId"`
			} `json:"to"`
		} `json:"results"`
	}
	if err := c.api().Call(ctx, "POST", "/crm/v4/associations/"+from+"/"+to+"/batch/read", "", map[string]any{"inputs": inputs}, &res); err != nil {
		return nil, fmt.Errorf("read %s of %s: %w", to, from, err)
	}
	out := map[string][]string{}
	for _, r := range res.Results {
		for _, t := range r.To {
			out[string(r.From.ID)] = append(out[string(r.From.ID)], string(t.ToObjectID))
		}
	}
	return out, nil
}

// openDeals returns the open deals among deals' values, most recently
// modified first. A deal is closed when hs_is_closed is "true" or its stage
// is the default pipeline's closedwon/closedlost.
func (c *Client) openDeals(ctx context.Context, deals map[string][]string) ([]string, error) {
	var inputs []map[string]string
	seen := map[string]bool{}
	for _, ds := range deals {
		for _, d := range ds {
			if !seen[d] {
				seen[d] = true
				inputs = append(inputs, map[string]string{"id": d})
			}
		}
	}
	if len(inputs) == 0 {
		return nil, nil
	}
	var res struct {
		Results []object `json:"results"`
	}
	in := map[string]any{"properties": []string{"dealname", "dealstage", "hs_is_closed", "hs_lastmodifieddate"}, "inputs": inputs}
	if err := c.api().Call(ctx, "POST", "/crm/v3/objects/deals/batch/read", "", in, &res); err != nil {
		return nil, fmt.Errorf("read deals: %w", err)
	}
	var open []object
	for _, d := range res.Results {
		p := d.Properties
		if p["hs_is_closed"] == "true" || p["dealstage"] == "closedwon" || p["dealstage"] == "closedlost" {
			continue
		}
		open = append(open, d)
	}
	slices.SortStableFunc(open, func(a, b object) int {
		return strings.Compare(b.Properties["hs_lastmodifieddate"], a.Properties["hs_lastmodifieddate"])
	})
	out := make([]string, len(open))
	for i, d := range open {
		out[i] = string(d.ID)
	}
	return out, nil
}

// existingID reads the ID out of HubSpot's 409 "Contact already exists.
// Existing ID: 123" (the ID is only in the message text).
var existingID = regexp.MustCompile(`Existing ID: ?(\d+)`)

// CreateContact creates a contact; a 409 naming the existing contact
// returns that one.
func (c *Client) CreateContact(ctx context.Context, p connector.Participant) (connector.Contact, error) {
	first, last, _ := strings.Cut(strings.TrimSpace(p.Name), " ")
	in := map[string]any{"properties": map[string]string{"email": p.Email, "firstname": first, "lastname": last}}
	var out object
	err := c.api().Do(ctx, &outbound.Request{Method: "POST", Path: "/crm/v3/objects/contacts", JSON: in, Out: &out, Create: true})
	var se *outbound.StatusError
	if errors.As(err, &se) && se.Code == http.StatusConflict {
		if m := existingID.FindStringSubmatch(se.Body); m != nil {
			return connector.Contact{ID: m[1], Email: p.Email}, nil
		}
	}
	if err != nil {
		return connector.Contact{}, fmt.Errorf("create contact: %w", err)
	}
	return connector.Contact{ID: string(out.ID), Email: p.Email}, nil
}

// ensureMarker makes sure object type obj has the marker property: it is
// read, and created when missing. A token without the schema scope gets a
// permanent error naming the property to create by hand.
func (c *Client) ensureMarker(ctx context.Context, obj, group string) error {
	c.mu.Lock()
	done := c.ensured[obj]
	c.mu.Unlock()
	if done {
		return nil
	}
	err := c.api().Call(ctx, "GET", "/crm/v3/properties/"+obj+"/"+MarkerProperty, "", nil, nil)
	var se *outbound.StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		in := map[string]any{"name": MarkerProperty, "label": "Notekeeper ID", "type": "string", "fieldType": "text",
			"groupName": group, "description": "Set by notekeeper; used to find the record again"}
		err = c.api().Call(ctx, "POST", "/crm/v3/properties/"+obj, "", in, nil)
		if errors.As(err, &se) && se.Code == http.StatusConflict {
			err = nil // created meanwhile
		}
		if err != nil && errors.As(err, &se) && se.Code < 500 && se.Code != 429 {
			return apperr.Permanent(fmt.Errorf("hubspot: create the %s property %q (single-line text) or give the token the schema scope: %w", obj, MarkerProperty, err))
		}
	}
	if err != nil {
		return fmt.Errorf("hubspot: %s property %q: %w", obj, MarkerProperty, err)
	}
	c.mu.Lock()
	if c.ensured == nil {
		c.ensured = map[string]bool{}
	}
	c.ensured[obj] = true
	c.mu.Unlock()
	return nil
}

// FindMeeting searches the meeting with our marker; failing that, a
// calendar-synced meeting with the same iCalUID that has no marker and
// starts within 12 hours of ours (recurring events share an iCalUID, so the
// time tells occurrences apart).
func (c *Client) FindMeeting(ctx context.Context, m *connector.Meeting) (string, error) {
	if err := c.ensureMarker(ctx, "meetings", "meetinginformation"); err != nil {
		return "", err
	}
	groups := []filterGroup{{Filters: []filter{{PropertyName: MarkerProperty, Operator: "EQ", Value: m.NotetakerID}}}}
	if m.ICalUID != "" {
		groups = append(groups, filterGroup{Filters: []filter{{PropertyName: "hs_i_cal_uid", Operator: "EQ", Value: m.ICalUID}}})
	}
	res, err := c.search(ctx, "meetings", groups, []string{MarkerProperty, "hs_i_cal_uid", "hs_meeting_start_time"})
	if err != nil {
		return "", err
	}
	for _, o := range res {
		if o.Properties[MarkerProperty] == m.NotetakerID {
			return string(o.ID), nil
		}
	}
	for _, o := range res {
		p := o.Properties
		if m.ICalUID == "" || p["hs_i_cal_uid"] != m.ICalUID || p[MarkerProperty] != "" {
			continue
		}
		if start := parseTime(p["hs_meeting_start_time"]); !start.IsZero() && !m.StartsAt.IsZero() {
			if d := start.Sub(m.StartsAt); d > 12*time.Hour || d < -12*time.Hour {
				continue
			}
		}
		return string(o.ID), nil
	}
	return "", nil
}

func (c *Client) meetingProps(m *connector.Meeting) map[string]string {
	when := m.StartsAt
	if when.IsZero() {
		when = c.now()
	}
	p := map[string]string{
		"hs_timestamp":     stamp(when),
		"hs_meeting_title": m.Title,
		"hs_meeting_body":  connector.Body(m, connector.HTML, bodyLimit),
		MarkerProperty:     m.NotetakerID,
	}
	if !m.StartsAt.IsZero() {
		p["hs_meeting_start_time"] = stamp(m.StartsAt)
	}
	if !m.EndsAt.IsZero() {
		p["hs_meeting_end_time"] = stamp(m.EndsAt)
	}
	return p
}

type assocType struct {
	Category string `json:"associationCategory"`
	TypeID   int    `json:"associationTypeId"`
}

type association struct {
	To struct {
		ID string `json:"id"`
	} `json:"to"`
	Types []assocType `json:"types"`
}

func assoc(id string, typeID int) association {
	a := association{Types: []assocType{{Category: "HUBSPOT_DEFINED", TypeID: typeID}}}
	a.To.ID = id
	return a
}

// links lists the records a meeting or task links to: every contact, the
// deal, and (meetings) each contact's company once.
func links(contacts []connector.Contact, dealID string, toContact, toDeal, toCompany int) []association {
	out := []association{}
	var companies []string
	for _, ct := range contacts {
		out = append(out, assoc(ct.ID, toContact))
		if ct.CompanyID != "" && !slices.Contains(companies, ct.CompanyID) {
			companies = append(companies, ct.CompanyID)
		}
	}
	if dealID != "" {
		out = append(out, assoc(dealID, toDeal))
	}
	if toCompany > 0 {
		for _, co := range companies {
			out = append(out, assoc(co, toCompany))
		}
	}
	return out
}

// CreateMeeting creates the meetings object with its associations.
func (c *Client) CreateMeeting(ctx context.Context, m *connector.Meeting, contacts []connector.Contact, dealID string) (string, error) {
	if err := c.ensureMarker(ctx, "meetings", "meetinginformation"); err != nil {
		return "", err
	}
	in := map[string]any{"properties": c.meetingProps(m), "associations": links(contacts, dealID, meetingToContact, meetingToDeal, meetingToCompany)}
	var out object
	if err := c.api().Do(ctx, &outbound.Request{Method: "POST", Path: "/crm/v3/objects/meetings", JSON: in, Out: &out, Create: true}); err != nil {
		return "", fmt.Errorf("create meeting: %w", err)
	}
	if out.ID == "" {
		return "", fmt.Errorf("create meeting: the answer has no id")
	}
	return string(out.ID), nil
}

// UpdateMeeting PATCHes the properties and adds any missing association
// with the default-association PUT (idempotent).
func (c *Client) UpdateMeeting(ctx context.Context, id string, m *connector.Meeting, contacts []connector.Contact, dealID string) error {
	if err := c.api().Call(ctx, "PATCH", "/crm/v3/objects/meetings/"+id, "", map[string]any{"properties": c.meetingProps(m)}, nil); err != nil {
		return fmt.Errorf("update meeting: %w", err)
	}
	for _, a := range links(contacts, dealID, meetingToContact, meetingToDeal, meetingToCompany) {
		to := map[int]string{meetingToContact: "contacts", meetingToDeal: "deals", meetingToCompany: "companies"}[a.Types[0].TypeID]
		if err := c.api().Call(ctx, "PUT", "/crm/v4/objects/meetings/"+id+"/associations/default/"+to+"/"+a.To.ID, "", nil, nil); err != nil {
			return fmt.Errorf("associate meeting with %s: %w", to, err)
		}
	}
	return nil
}

// FindTask searches the task carrying marker.
func (c *Client) FindTask(ctx context.Context, marker string) (string, error) {
	if err := c.ensureMarker(ctx, "tasks", "taskinformation"); err != nil {
		return "", err
	}
	res, err := c.search(ctx, "tasks", []filterGroup{{Filters: []filter{{PropertyName: MarkerProperty, Operator: "EQ", Value: marker}}}}, []string{MarkerProperty})
	if err != nil {
		return "", err
	}
	for _, o := range res {
		if o.Properties[MarkerProperty] == marker {
			return string(o.ID), nil
		}
	}
	return "", nil
}

// CreateTask creates a to-do due in two days, linked to the contacts and
// the deal.
func (c *Client) CreateTask(ctx context.Context, marker, text, _ string, contacts []connector.Contact, dealID string) (string, error) {
	if err := c.ensureMarker(ctx, "tasks", "taskinformation"); err != nil {
		return "", err
	}
	props := map[string]string{
		"hs_timestamp":    stamp(c.now().Add(48 * time.Hour)),
		"hs_task_subject": connector.Cut(text, "", 250),
		"hs_task_body":    connector.Cut(text, "", bodyLimit),
		"hs_task_status":  "NOT_STARTED",
		"hs_task_type":    "TODO",
		MarkerProperty:    marker,
	}
	in := map[string]any{"properties": props, "associations": links(contacts, dealID, taskToContact, taskToDeal, 0)}
	var out object
	if err := c.api().Do(ctx, &outbound.Request{Method: "POST", Path: "/crm/v3/objects/tasks", JSON: in, Out: &out, Create: true}); err != nil {
		return "", fmt.Errorf("create task: %w", err)
	}
	return string(out.ID), nil
}

// stamp formats t as HubSpot takes datetimes: UTC ISO 8601 with
// milliseconds (epoch seconds are a known trap: n8n-io/n8n#14659).
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// parseTime reads a HubSpot datetime: ISO 8601 or epoch milliseconds.
func parseTime(s string) time.Time {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	var ms int64
	if _, err := fmt.Sscanf(s, "%d", &ms); err == nil && ms > 0 {
		return time.UnixMilli(ms)
	}
	return time.Time{}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
