// Package rest is the CRM connector for notekeeper's own small REST contract
// (docs/connectors.md): contacts looked up by e-mail, one meeting record per Notetaker
// found by its external_notetaker_id, created with POST and changed with
// PATCH. The contract's server honours Idempotency-Key, so — unlike the
// vendor connectors — every write carries one.
package rest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

// Connector speaks the rest contract through API (BaseURL and the bearer
// APIKey of [crm]).
type Connector struct {
	API                *outbound.Client
	ContactsSearchPath string // default "/api/contacts/search"
	MeetingsPath       string // default "/api/meetings"
}

var _ connector.CRM = (*Connector)(nil)

// Name is "rest".
func (c *Connector) Name() string { return "rest" }

func (c *Connector) contactsPath() string {
	if c.ContactsSearchPath == "" {
		return "/api/contacts/search"
	}
	return c.ContactsSearchPath
}

func (c *Connector) meetingsPath() string {
	if c.MeetingsPath == "" {
		return "/api/meetings"
	}
	return c.MeetingsPath
}

// FindContacts asks GET {contacts_search_path}?email=E once per e-mail and
// takes the first result: {"results":[{"id","primary_deal_id"}]}.
func (c *Connector) FindContacts(ctx context.Context, emails []string) (map[string]connector.Contact, error) {
	out := map[string]connector.Contact{}
	for _, email := range emails {
		var res struct {
			Results []struct {
				ID            string  `json:"id"`
				PrimaryDealID *string `json:"primary_deal_id"`
			} `json:"results"`
		}
		if err := c.API.Call(ctx, "GET", c.contactsPath()+"?email="+url.QueryEscape(email), "", nil, &res); err != nil {
			return nil, fmt.Errorf("find contact: %w", err)
		}
		if len(res.Results) == 0 || res.Results[0].ID == "" {
			continue
		}
		ct := connector.Contact{ID: res.Results[0].ID, Email: email}
		if d := res.Results[0].PrimaryDealID; d != nil {
			ct.DealID = *d
		}
		out[email] = ct
	}
	return out, nil
}

// CreateContact is not part of the contract.
func (c *Connector) CreateContact(context.Context, connector.Participant) (connector.Contact, error) {
	return connector.Contact{}, fmt.Errorf("rest: create contact: %w", connector.ErrUnsupported)
}

// FindMeeting asks GET {meetings_path}?external_notetaker_id=ID.
func (c *Connector) FindMeeting(ctx context.Context, m *connector.Meeting) (string, error) {
	var found struct {
		Results []struct {
			ID string `json:"id"`
		} `json:"results"`
	}
	if err := c.API.Call(ctx, "GET", c.meetingsPath()+"?external_notetaker_id="+url.QueryEscape(m.NotetakerID), "", nil, &found); err != nil {
		return "", fmt.Errorf("find meeting: %w", err)
	}
	if len(found.Results) == 0 {
		return "", nil
	}
	return found.Results[0].ID, nil
}

// record is the meeting body of the contract.
type record struct {
	Subject              string     `json:"subject"`
	Summary              string     `json:"summary"`
	ActionItems          []string   `json:"action_items"`
	AssociatedContactIDs []string   `json:"associated_contact_ids"`
	AssociatedDealID     *string    `json:"associated_deal_id"`
	RecordingURL         string     `json:"recording_url"`
	TranscriptURL        string     `json:"transcript_url"`
	ExternalNotetakerID  string     `json:"external_notetaker_id"`
	Source               string     `json:"source"`
	StartsAt             *time.Time `json:"starts_at"`
	EndsAt               *time.Time `json:"ends_at"`
}

func body(m *connector.Meeting, contacts []connector.Contact, dealID string) record {
	r := record{Subject: m.Title, Summary: m.Summary, ActionItems: append([]string{}, m.ActionItems...),
		AssociatedContactIDs: []string{}, RecordingURL: m.RecordingURL, TranscriptURL: m.TranscriptURL,
		ExternalNotetakerID: m.NotetakerID, Source: "notekeeper"}
	for _, ct := range contacts {
		r.AssociatedContactIDs = append(r.AssociatedContactIDs, ct.ID)
	}
	if dealID != "" {
		r.AssociatedDealID = &dealID
	}
	if !m.StartsAt.IsZero() {
		t := m.StartsAt.UTC()
		r.StartsAt = &t
	}
	if !m.EndsAt.IsZero() {
		t := m.EndsAt.UTC()
		r.EndsAt = &t
	}
	return r
}

// CreateMeeting POSTs {meetings_path} with Idempotency-Key
// "notekeeper-crm-{notetaker id}".
func (c *Connector) CreateMeeting(ctx context.Context, m *connector.Meeting, contacts []connector.Contact, dealID string) (string, error) {
	var created struct {
		ID string `json:"id"`
	}
	if err := c.API.Call(ctx, "POST", c.meetingsPath(), "notekeeper-crm-"+m.NotetakerID, body(m, contacts, dealID), &created); err != nil {
		return "", fmt.Errorf("create meeting: %w", err)
	}
	if created.ID == "" {
		return "", fmt.Errorf("create meeting: the answer has no id")
	}
	return created.ID, nil
}

// UpdateMeeting PATCHes {meetings_path}/{id}; the Idempotency-Key names the
// content, so a replayed PATCH of the same content is one change.
func (c *Connector) UpdateMeeting(ctx context.Context, id string, m *connector.Meeting, contacts []connector.Contact, dealID string) error {
	r := body(m, contacts, dealID)
	r2 := r
	r2.RecordingURL, r2.TranscriptURL = "", "" // their expiry changes on every run
	b, _ := json.Marshal(r2)
	h := sha256.Sum256(b)
	idem := "notekeeper-crm-" + m.NotetakerID + "-" + hex.EncodeToString(h[:8])
	if err := c.API.Call(ctx, "PATCH", c.meetingsPath()+"/"+url.PathEscape(id), idem, r, nil); err != nil {
		return fmt.Errorf("update meeting: %w", err)
	}
	return nil
}

// FindTask is not part of the contract.
func (c *Connector) FindTask(context.Context, string) (string, error) {
	return "", fmt.Errorf("rest: find task: %w", connector.ErrUnsupported)
}

// CreateTask is not part of the contract.
func (c *Connector) CreateTask(context.Context, string, string, string, []connector.Contact, string) (string, error) {
	return "", fmt.Errorf("rest: create task: %w", connector.ErrUnsupported)
}

// Probe looks up an address no CRM holds: any 2xx answer means the base URL
// and the key work.
func (c *Connector) Probe(ctx context.Context) error {
	_, err := c.FindContacts(ctx, []string{"probe@notekeeper.invalid"})
	return err
}

// RecordURL is "": the contract has no UI.
func (c *Connector) RecordURL(string) string { return "" }

// SearchLag is 0: the contract's lookups see creates at once.
func (c *Connector) SearchLag() time.Duration { return 0 }
