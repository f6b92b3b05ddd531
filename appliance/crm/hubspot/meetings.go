package hubspot

// Meetings: the marker property, find by marker, create and update with
// their associations to contacts, the deal and the company.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

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
