package crmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Close is a stand-in for Close's API v1 (HTTP Basic with the API key as
// user name): leads with their contacts, lead search by contact e-mail
// (query=email_address:"…", lagging behind writes), contacts, active
// opportunities, note activities (create, PUT as PATCH, list by lead), the
// RateLimit header with a 429, and Close's error bodies
// (testdata/close-*.json).
type Close struct {
	base
	APIKey string
	// RateReset is sent as RateLimit reset= (seconds) with a 429.
	RateReset time.Duration

	n        int
	leads    map[string]*closeLead
	contacts map[string]*closeContact
	opps     map[string]map[string]any
	notes    map[string]map[string]any
}

type closeLead struct {
	ID, Name string
	created  time.Time
}

type closeContact struct {
	ID, LeadID, Name string
	Emails           []string
	created          time.Time
}

// NewClose starts a Close stand-in accepting apiKey.
func NewClose(apiKey string) *Close {
	c := &Close{APIKey: apiKey, RateReset: time.Second, leads: map[string]*closeLead{}, contacts: map[string]*closeContact{},
		opps: map[string]map[string]any{}, notes: map[string]map[string]any{}}
	c.start(c)
	return c
}

func (c *Close) authorized(r *http.Request) bool {
	u, p, ok := r.BasicAuth()
	return ok && u == c.APIKey && p == ""
}

func (c *Close) unauthorized(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("WWW-Authenticate", `Basic realm="api"`)
	writeJSON(w, 401, map[string]any{"error": "The API key you provided is invalid."})
}

func (c *Close) fail(w http.ResponseWriter, status int) {
	if status == 429 {
		reset := strconv.FormatFloat(c.RateReset.Seconds(), 'f', -1, 64)
		w.Header().Set("RateLimit", "limit=40, remaining=0, reset="+reset)
		writeJSON(w, 429, map[string]any{"error": map[string]any{"rate_reset": c.RateReset.Seconds(), "message": "API call count exceeded for this 60 second period", "rate_limit": "40 per 60 seconds", "rate_limit_type": "key"}})
		return
	}
	writeJSON(w, status, map[string]any{"error": "Service Unavailable"})
}

func (c *Close) id(prefix string) string {
	c.n++
	return fmt.Sprintf("%s_%06dCLOSEtest", prefix, c.n)
}

// AddContact seeds a contact on lead company (found or made by name).
func (c *Close) AddContact(email, name, company string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var lead *closeLead
	for _, l := range c.leads {
		if l.Name == company {
			lead = l
		}
	}
	if lead == nil {
		lead = &closeLead{ID: c.id("lead"), Name: company}
		c.leads[lead.ID] = lead
	}
	ct := &closeContact{ID: c.id("cont"), LeadID: lead.ID, Name: name, Emails: []string{email}}
	c.contacts[ct.ID] = ct
	return ct.ID
}

// AddDeal seeds an active opportunity on contactID's lead.
func (c *Close) AddDeal(contactID, name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.id("oppo")
	c.opps[id] = map[string]any{"id": id, "lead_id": c.contacts[contactID].LeadID, "contact_id": contactID, "note": name,
		"status_type": "active", "date_updated": time.Now().UTC().Format(time.RFC3339Nano)}
	return id
}

// LeadOf returns the lead a contact belongs to.
func (c *Close) LeadOf(contactID string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ct := c.contacts[contactID]; ct != nil {
		return ct.LeadID
	}
	return ""
}

// Meetings returns the stored notes: one contact_id each, on a lead.
func (c *Close) Meetings() []Landed {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Landed
	for id, n := range c.notes {
		l := Landed{ID: id, Title: str(n["title"]), Body: str(n["note_html"]), CompanyID: str(n["lead_id"]), Start: parseTime(str(n["activity_at"]))}
		if ct := str(n["contact_id"]); ct != "" {
			l.ContactIDs = []string{ct}
		}
		if i := strings.Index(l.Body, "[notekeeper:"); i >= 0 {
			l.Marker = strings.SplitN(l.Body[i+len("[notekeeper:"):], "]", 2)[0]
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Tasks: the connector writes none.
func (c *Close) Tasks() []Landed { return nil }

// ContactCount counts contacts.
func (c *Close) ContactCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.contacts)
}

func closeList(w http.ResponseWriter, data []map[string]any, more bool) {
	if data == nil {
		data = []map[string]any{}
	}
	writeJSON(w, 200, map[string]any{"has_more": more, "total_results": len(data), "data": data})
}

func closeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errors": []string{msg}, "field-errors": map[string]any{}})
}

func (c *Close) contactJSON(ct *closeContact) map[string]any {
	var emails []map[string]any
	for _, e := range ct.Emails {
		emails = append(emails, map[string]any{"email": e, "type": "office", "is_unsubscribed": false})
	}
	return map[string]any{"id": ct.ID, "lead_id": ct.LeadID, "name": ct.Name, "display_name": ct.Name, "emails": emails}
}

var emailQuery = regexp.MustCompile(`^email_address:"([^"\\]*)"$`)

func (c *Close) route(w http.ResponseWriter, r *http.Request, body []byte) {
	q := r.URL.Query()
	path := r.URL.Path
	switch {
	case r.Method == "GET" && path == "/api/v1/me/":
		writeJSON(w, 200, map[string]any{"id": "user_test", "email": "sales@your-company.example", "organizations": []any{}})
	case r.Method == "GET" && path == "/api/v1/lead/":
		m := emailQuery.FindStringSubmatch(q.Get("query"))
		if m == nil {
			closeError(w, 400, "unsupported query in the stand-in: "+q.Get("query"))
			return
		}
		c.mu.Lock()
		var data []map[string]any
		for _, l := range sortedLeads(c.leads) {
			var cs []map[string]any
			hit := false
			for _, ct := range c.contacts {
				if ct.LeadID != l.ID {
					continue
				}
				cs = append(cs, c.contactJSON(ct))
				for _, e := range ct.Emails {
					hit = hit || (strings.EqualFold(e, m[1]) && c.visible(ct.created))
				}
			}
			if hit {
				data = append(data, map[string]any{"id": l.ID, "display_name": l.Name, "contacts": cs})
			}
		}
		c.mu.Unlock()
		closeList(w, data, false)
	case r.Method == "POST" && path == "/api/v1/contact/":
		var in struct {
			LeadID string `json:"lead_id"`
			Name   string `json:"name"`
			Emails []struct {
				Email string `json:"email"`
			} `json:"emails"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			closeError(w, 400, "invalid JSON")
			return
		}
		c.create(w, 200, func() any {
			now := c.clock()
			lead := in.LeadID
			if lead == "" {
				l := &closeLead{ID: c.id("lead"), Name: in.Name, created: now}
				c.leads[l.ID], lead = l, l.ID
			}
			ct := &closeContact{ID: c.id("cont"), LeadID: lead, Name: in.Name, created: now}
			for _, e := range in.Emails {
				ct.Emails = append(ct.Emails, e.Email)
			}
			c.contacts[ct.ID] = ct
			return c.contactJSON(ct)
		})
	case r.Method == "GET" && path == "/api/v1/opportunity/":
		c.mu.Lock()
		var data []map[string]any
		for _, o := range c.opps {
			if o["lead_id"] == q.Get("lead_id") && (q.Get("status_type") == "" || o["status_type"] == q.Get("status_type")) {
				data = append(data, o)
			}
		}
		c.mu.Unlock()
		sort.Slice(data, func(i, j int) bool { return str(data[i]["date_updated"]) > str(data[j]["date_updated"]) })
		if n, err := strconv.Atoi(q.Get("_limit")); err == nil && n < len(data) {
			data = data[:n]
		}
		closeList(w, data, false)
	case r.Method == "POST" && path == "/api/v1/activity/note/":
		var in map[string]any
		if err := json.Unmarshal(body, &in); err != nil || str(in["lead_id"]) == "" {
			writeJSON(w, 400, map[string]any{"errors": []string{}, "field-errors": map[string]string{"lead_id": "This field is required."}})
			return
		}
		c.mu.Lock()
		_, ok := c.leads[str(in["lead_id"])]
		c.mu.Unlock()
		if !ok {
			writeJSON(w, 400, map[string]any{"errors": []string{}, "field-errors": map[string]string{"lead_id": "Object does not exist."}})
			return
		}
		c.create(w, 200, func() any {
			id := c.id("acti")
			n := map[string]any{"id": id, "_type": "Note", "date_created": c.clock().UTC().Format(time.RFC3339Nano)}
			for k, v := range in {
				n[k] = v
			}
			c.notes[id] = n
			return n
		})
	case r.Method == "PUT" && strings.HasPrefix(path, "/api/v1/activity/note/"):
		id := strings.Trim(strings.TrimPrefix(path, "/api/v1/activity/note/"), "/")
		var in map[string]any
		if err := json.Unmarshal(body, &in); err != nil {
			closeError(w, 400, "invalid JSON")
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		n := c.notes[id]
		if n == nil {
			writeJSON(w, 404, map[string]any{"error": "Empty query: Note matching query does not exist."})
			return
		}
		for k, v := range in { // PUT behaves as PATCH
			n[k] = v
		}
		writeJSON(w, 200, n)
	case r.Method == "GET" && path == "/api/v1/activity/note/":
		limit, _ := strconv.Atoi(q.Get("_limit"))
		skip, _ := strconv.Atoi(q.Get("_skip"))
		if limit <= 0 {
			limit = 100
		}
		c.mu.Lock()
		var all []map[string]any
		for _, n := range c.notes {
			if q.Get("lead_id") == "" || n["lead_id"] == q.Get("lead_id") {
				all = append(all, n)
			}
		}
		c.mu.Unlock()
		sort.Slice(all, func(i, j int) bool { return str(all[i]["id"]) < str(all[j]["id"]) })
		end := min(skip+limit, len(all))
		if skip > len(all) {
			skip = len(all)
		}
		closeList(w, all[skip:end], end < len(all))
	default:
		writeJSON(w, 404, map[string]any{"error": "Not found"})
	}
}

func sortedLeads(m map[string]*closeLead) []*closeLead {
	out := make([]*closeLead, 0, len(m))
	for _, l := range m {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
