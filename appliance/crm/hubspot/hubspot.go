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
	"cmp"
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

// DefaultBaseURL is HubSpot's API.
const DefaultBaseURL = "https://api.hubapi.com"

// MarkerProperty is the custom property holding the Notetaker ID on
// meetings (and the task marker on tasks).
const MarkerProperty = "notekeeper_id"

// Association type IDs (HUBSPOT_DEFINED), from HubSpot's associations v4 reference:
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
	return &outbound.Client{BaseURL: cmp.Or(c.BaseURL, DefaultBaseURL), Auth: outbound.Bearer(c.Token), HTTP: c.HTTP}
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
