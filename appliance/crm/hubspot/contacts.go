package hubspot

// Contacts: search by e-mail (with their companies and open deals), create.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

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
