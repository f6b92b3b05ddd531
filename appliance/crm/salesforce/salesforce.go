// Package salesforce is the CRM connector for the Salesforce REST API with
// a connected app's OAuth 2.0 client-credentials flow: Contacts matched by
// e-mail (SOQL), their open Opportunity (through contact roles), one Event
// per meeting (Subject, Start/EndDateTime, Description, WhoId = the first
// contact, WhatId = the opportunity, the other contacts as EventRelations),
// Tasks from action items.
//
// Exactly once: every Event and Task carries the custom Activity field
// Notekeeper_Id__c, and FindMeeting/FindTask query it (SOQL reads its own
// writes, so there is no lag). Making the field an External ID marked
// Unique, where the org allows it, makes a duplicate create fail outright.
//
// Token: fetched at {LoginURL}/services/oauth2/token, used against the
// answer's instance_url, cached, and fetched again once when a call answers
// 401 INVALID_SESSION_ID (a 401 means the call was not processed, so even a
// create is safe to send again).
package salesforce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

// Defaults for [crm.salesforce].
const (
	DefaultLoginURL   = "https://login.salesforce.com"
	DefaultAPIVersion = "v62.0"
)

// MarkerField is the custom Activity field holding the Notetaker ID (Event)
// or the task marker (Task).
const MarkerField = "Notekeeper_Id__c"

// descriptionLimit is the Description textarea's 32,000 characters.
const descriptionLimit = 32000

// Client is the Salesforce connector. Safe for concurrent use.
type Client struct {
	LoginURL     string // default DefaultLoginURL; the org's My Domain URL also works
	ClientID     string
	ClientSecret string
	APIVersion   string // default DefaultAPIVersion
	HTTP         *http.Client
	Logger       *slog.Logger // default slog.Default()

	mu       sync.Mutex
	token    string
	instance string
}

var _ connector.CRM = (*Client)(nil)

// Name is "salesforce".
func (c *Client) Name() string { return "salesforce" }

// SearchLag is 0: SOQL sees committed records at once.
func (c *Client) SearchLag() time.Duration { return 0 }

// RecordURL is the Event's Lightning page, once the instance is known.
func (c *Client) RecordURL(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.instance == "" || id == "" {
		return ""
	}
	return strings.TrimRight(c.instance, "/") + "/lightning/r/Event/" + id + "/view"
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// session returns the cached token and instance, fetching them when there
// are none.
func (c *Client) session(ctx context.Context) (token, instance string, err error) {
	c.mu.Lock()
	token, instance = c.token, c.instance
	c.mu.Unlock()
	if token != "" {
		return token, instance, nil
	}
	login := c.LoginURL
	if login == "" {
		login = DefaultLoginURL
	}
	var res struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}
	err = (&outbound.Client{BaseURL: login, HTTP: c.HTTP}).Do(ctx, &outbound.Request{Method: "POST", Path: "/services/oauth2/token", Form: form, Out: &res})
	var se *outbound.StatusError
	if errors.As(err, &se) && se.Code == http.StatusBadRequest {
		// invalid_client, invalid_grant, "client credentials flow not
		// enabled": the credentials are wrong.
		return "", "", apperr.Permanent(&outbound.StatusError{Method: se.Method, Where: se.Where, Code: http.StatusUnauthorized, Body: "token: " + se.Body})
	}
	if err != nil {
		return "", "", fmt.Errorf("salesforce token: %w", err)
	}
	if res.AccessToken == "" || res.InstanceURL == "" {
		return "", "", apperr.Permanent(fmt.Errorf("salesforce token: the answer has no access_token or instance_url"))
	}
	c.mu.Lock()
	c.token, c.instance = res.AccessToken, res.InstanceURL
	c.mu.Unlock()
	return res.AccessToken, res.InstanceURL, nil
}

func (c *Client) forget(token string) {
	c.mu.Lock()
	if c.token == token {
		c.token = ""
	}
	c.mu.Unlock()
}

// do sends r under /services/data/{version}, refreshing the token once on
// 401 and turning the org's daily limit (403 REQUEST_LIMIT_EXCEEDED) into a
// wait.
func (c *Client) do(ctx context.Context, r outbound.Request) error {
	version := c.APIVersion
	if version == "" {
		version = DefaultAPIVersion
	}
	path := r.Path
	for attempt := 0; ; attempt++ {
		token, instance, err := c.session(ctx)
		if err != nil {
			return err
		}
		r.Path = "/services/data/" + version + path
		err = (&outbound.Client{BaseURL: instance, Auth: outbound.Bearer(token), HTTP: c.HTTP}).Do(ctx, &r)
		var se *outbound.StatusError
		switch {
		case errors.As(err, &se) && se.Code == http.StatusUnauthorized && attempt == 0:
			c.forget(token)
			continue
		case errors.As(err, &se) && se.Code == http.StatusForbidden && strings.Contains(se.Body, "REQUEST_LIMIT_EXCEEDED"):
			return &apperr.RetryAfterError{After: time.Hour, Err: se}
		}
		return err
	}
}

// quote is a SOQL string literal: backslash and quote escaped, and the
// control characters SOQL names.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "\b", `\b`, "\f", `\f`)
	return "'" + r.Replace(s) + "'"
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return strings.Join(q, ", ")
}

type record map[string]any

func (r record) str(k string) string {
	s, _ := r[k].(string)
	return s
}

// query runs one SOQL query (first batch; notekeeper's queries are small).
func (c *Client) query(ctx context.Context, soql string) ([]record, error) {
	var res struct {
		Records []record `json:"records"`
	}
	if err := c.do(ctx, outbound.Request{Method: "GET", Path: "/query?q=" + url.QueryEscape(soql), Out: &res}); err != nil {
		return nil, fmt.Errorf("soql: %w", err)
	}
	return res.Records, nil
}

// Probe queries the marker field: it proves the credentials and that the
// field exists.
func (c *Client) Probe(ctx context.Context) error {
	if _, err := c.query(ctx, "SELECT Id FROM Event WHERE "+MarkerField+" = 'probe' LIMIT 1"); err != nil {
		return fmt.Errorf("salesforce probe: %w", err)
	}
	return nil
}

// FindContacts queries Contacts by Email (SOQL compares strings without
// regard to case), then their open opportunities through
// OpportunityContactRole, most recently modified first.
func (c *Client) FindContacts(ctx context.Context, emails []string) (map[string]connector.Contact, error) {
	out := map[string]connector.Contact{}
	for chunk := range slices.Chunk(emails, 100) {
		recs, err := c.query(ctx, "SELECT Id, Email, AccountId FROM Contact WHERE Email IN ("+quoteAll(chunk)+") ORDER BY CreatedDate")
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			email := strings.ToLower(r.str("Email"))
			if _, dup := out[email]; !dup && slices.Contains(chunk, email) {
				out[email] = connector.Contact{ID: r.str("Id"), Email: email}
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
	recs, err := c.query(ctx, "SELECT ContactId, OpportunityId FROM OpportunityContactRole WHERE ContactId IN ("+quoteAll(ids)+") AND Opportunity.IsClosed = false ORDER BY Opportunity.LastModifiedDate DESC")
	if err != nil {
		return nil, err
	}
	for email, ct := range out {
		for _, r := range recs {
			if r.str("ContactId") == ct.ID {
				ct.DealID = r.str("OpportunityId")
				break
			}
		}
		out[email] = ct
	}
	return out, nil
}

// CreateContact creates a Contact (LastName is required: the e-mail stands
// in when the name is unknown).
func (c *Client) CreateContact(ctx context.Context, p connector.Participant) (connector.Contact, error) {
	first, last, ok := strings.Cut(strings.TrimSpace(p.Name), " ")
	if !ok {
		first, last = "", first
	}
	if last == "" {
		last = p.Email
	}
	id, err := c.create(ctx, "Contact", map[string]any{"FirstName": first, "LastName": last, "Email": p.Email})
	if err != nil {
		return connector.Contact{}, err
	}
	return connector.Contact{ID: id, Email: p.Email}, nil
}

func (c *Client) create(ctx context.Context, sobject string, fields map[string]any) (string, error) {
	var res struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	if err := c.do(ctx, outbound.Request{Method: "POST", Path: "/sobjects/" + sobject, JSON: fields, Out: &res, Create: true}); err != nil {
		return "", fmt.Errorf("create %s: %w", sobject, err)
	}
	if res.ID == "" || !res.Success {
		return "", fmt.Errorf("create %s: the answer has no id", sobject)
	}
	return res.ID, nil
}

// FindMeeting queries the Event carrying the Notetaker ID.
func (c *Client) FindMeeting(ctx context.Context, m *connector.Meeting) (string, error) {
	return c.findMarked(ctx, "Event", m.NotetakerID)
}

// FindTask queries the Task carrying marker.
func (c *Client) FindTask(ctx context.Context, marker string) (string, error) {
	return c.findMarked(ctx, "Task", marker)
}

func (c *Client) findMarked(ctx context.Context, sobject, marker string) (string, error) {
	recs, err := c.query(ctx, "SELECT Id FROM "+sobject+" WHERE "+MarkerField+" = "+quote(marker)+" ORDER BY CreatedDate LIMIT 1")
	if err != nil || len(recs) == 0 {
		return "", err
	}
	return recs[0].str("Id"), nil
}

func eventFields(m *connector.Meeting, contacts []connector.Contact, dealID string, now time.Time) map[string]any {
	start, end := m.StartsAt, m.EndsAt
	if start.IsZero() {
		start = now
	}
	if end.IsZero() || !end.After(start) {
		end = start.Add(30 * time.Minute)
	}
	f := map[string]any{
		"Subject":       connector.Cut(m.Title, "", 255),
		"StartDateTime": start.UTC().Format(time.RFC3339),
		"EndDateTime":   end.UTC().Format(time.RFC3339),
		"Description":   connector.Body(m, connector.Text, descriptionLimit),
		MarkerField:     m.NotetakerID,
	}
	if len(contacts) > 0 {
		f["WhoId"] = contacts[0].ID
	}
	if dealID != "" {
		f["WhatId"] = dealID
	}
	return f
}

// CreateMeeting creates the Event, then relates the other contacts.
func (c *Client) CreateMeeting(ctx context.Context, m *connector.Meeting, contacts []connector.Contact, dealID string) (string, error) {
	id, err := c.create(ctx, "Event", eventFields(m, contacts, dealID, time.Now()))
	if err != nil {
		return "", err
	}
	return id, c.relate(ctx, id, contacts, nil)
}

// UpdateMeeting PATCHes the Event and relates contacts it lacks.
func (c *Client) UpdateMeeting(ctx context.Context, id string, m *connector.Meeting, contacts []connector.Contact, dealID string) error {
	if err := c.do(ctx, outbound.Request{Method: "PATCH", Path: "/sobjects/Event/" + url.PathEscape(id), JSON: eventFields(m, contacts, dealID, time.Now())}); err != nil {
		return fmt.Errorf("update Event: %w", err)
	}
	recs, err := c.query(ctx, "SELECT RelationId FROM EventRelation WHERE EventId = "+quote(id)+" AND IsWhat = false")
	if err != nil {
		return err
	}
	var have []string
	for _, r := range recs {
		have = append(have, r.str("RelationId"))
	}
	return c.relate(ctx, id, contacts, have)
}

// relate adds an EventRelation for every contact after the first (the
// WhoId) not in have. An org without Shared Activities refuses them: the
// Event keeps its WhoId, and the refusal is logged, not retried.
func (c *Client) relate(ctx context.Context, eventID string, contacts []connector.Contact, have []string) error {
	for i, ct := range contacts {
		if i == 0 || slices.Contains(have, ct.ID) {
			continue
		}
		_, err := c.create(ctx, "EventRelation", map[string]any{"EventId": eventID, "RelationId": ct.ID, "IsParent": true, "IsWhat": false, "IsInvitee": false})
		var perm *apperr.PermanentError
		var se *outbound.StatusError
		if errors.As(err, &perm) && errors.As(err, &se) && se.Code == http.StatusBadRequest {
			c.logger().Warn("salesforce refused a second contact on the event (Shared Activities off?)", slog.String("event", eventID), slog.String("contact", ct.ID), slog.Any("error", err))
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// CreateTask creates a Task due in two days, on the first contact and the
// opportunity.
func (c *Client) CreateTask(ctx context.Context, marker, text, _ string, contacts []connector.Contact, dealID string) (string, error) {
	f := map[string]any{
		"Subject":      connector.Cut(text, "", 255),
		"Description":  connector.Cut(text, "", descriptionLimit),
		"ActivityDate": time.Now().UTC().Add(48 * time.Hour).Format(time.DateOnly),
		"Status":       "Not Started",
		"Priority":     "Normal",
		MarkerField:    marker,
	}
	if len(contacts) > 0 {
		f["WhoId"] = contacts[0].ID
	}
	if dealID != "" {
		f["WhatId"] = dealID
	}
	return c.create(ctx, "Task", f)
}
