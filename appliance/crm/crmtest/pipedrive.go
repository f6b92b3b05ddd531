package crmtest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Pipedrive is a stand-in for Pipedrive's API v2 (x-api-token header):
// persons with exact e-mail search, deals by person and status, activities
// with participants and cursor-paged lists filtered by updated_since, the
// {success, data, additional_data} envelope, x-ratelimit-* headers and
// Pipedrive's error body (testdata/pipedrive-*.json).
type Pipedrive struct {
	base
	Token string
	// RateLimitReset is sent as x-ratelimit-reset (seconds) with a 429.
	RateLimitReset time.Duration

	next       int64
	persons    map[int64]*pdPerson
	deals      map[int64]*pdDeal
	activities map[int64]*pdActivity
}

type pdPerson struct {
	ID      int64
	Name    string
	Emails  []string
	Org     string
	created time.Time
}

type pdDeal struct {
	ID       int64
	Title    string
	PersonID int64
	Status   string
	Updated  time.Time
}

type pdActivity struct {
	raw     map[string]any
	added   time.Time
	updated time.Time
}

// NewPipedrive starts a Pipedrive stand-in accepting token.
func NewPipedrive(token string) *Pipedrive {
	p := &Pipedrive{Token: token, RateLimitReset: time.Second, next: 100,
		persons: map[int64]*pdPerson{}, deals: map[int64]*pdDeal{}, activities: map[int64]*pdActivity{}}
	p.start(p)
	return p
}

func (p *Pipedrive) authorized(r *http.Request) bool { return r.Header.Get("x-api-token") == p.Token }

func (p *Pipedrive) unauthorized(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 401, map[string]any{"success": false, "error": "unauthorized access", "errorCode": 401, "error_info": "Please check developers.pipedrive.com", "data": nil})
}

func (p *Pipedrive) fail(w http.ResponseWriter, status int) {
	if status == 429 {
		w.Header().Set("x-ratelimit-limit", "80")
		w.Header().Set("x-ratelimit-remaining", "0")
		w.Header().Set("x-ratelimit-reset", strconv.FormatFloat(p.RateLimitReset.Seconds(), 'f', -1, 64))
		writeJSON(w, 429, map[string]any{"success": false, "error": "Request over limit", "errorCode": 429, "data": nil})
		return
	}
	writeJSON(w, status, map[string]any{"success": false, "error": "Service unavailable", "errorCode": status, "data": nil})
}

func (p *Pipedrive) id() int64 { p.next++; return p.next }

// AddContact seeds a person of organization company.
func (p *Pipedrive) AddContact(email, name, company string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	pe := &pdPerson{ID: p.id(), Name: name, Emails: []string{lower(email)}, Org: company}
	p.persons[pe.ID] = pe
	return strconv.FormatInt(pe.ID, 10)
}

// AddDeal seeds an open deal of person contactID.
func (p *Pipedrive) AddDeal(contactID, name string) string { return p.addDeal(contactID, name, "open") }

// AddWonDeal seeds a won deal, which must never be picked.
func (p *Pipedrive) AddWonDeal(contactID, name string) string {
	return p.addDeal(contactID, name, "won")
}

func (p *Pipedrive) addDeal(contactID, name, status string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	pid, _ := strconv.ParseInt(contactID, 10, 64)
	d := &pdDeal{ID: p.id(), Title: name, PersonID: pid, Status: status, Updated: time.Now()}
	p.deals[d.ID] = d
	return strconv.FormatInt(d.ID, 10)
}

func (p *Pipedrive) landed(typ string) []Landed {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Landed
	for id, a := range p.activities {
		if a.raw["type"] != typ {
			continue
		}
		l := Landed{ID: strconv.FormatInt(id, 10), Title: str(a.raw["subject"]), Body: str(a.raw["note"])}
		if t, err := time.Parse("2006-01-02 15:04", str(a.raw["due_date"])+" "+str(a.raw["due_time"])); err == nil {
			l.Start = t.UTC()
			if h, m, ok := strings.Cut(str(a.raw["duration"]), ":"); ok {
				hh, _ := strconv.Atoi(h)
				mm, _ := strconv.Atoi(m)
				l.End = l.Start.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
			}
		}
		if d, ok := a.raw["deal_id"].(float64); ok {
			l.DealID = strconv.FormatInt(int64(d), 10)
		}
		if ps, ok := a.raw["participants"].([]any); ok {
			for _, x := range ps {
				if m, ok := x.(map[string]any); ok {
					if n, ok := m["person_id"].(float64); ok {
						l.ContactIDs = append(l.ContactIDs, strconv.FormatInt(int64(n), 10))
					}
				}
			}
		}
		if i := strings.Index(l.Body, "[notekeeper:"); i >= 0 {
			l.Marker = strings.TrimSuffix(strings.SplitN(l.Body[i+len("[notekeeper:"):], "]", 2)[0], "]")
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// Meetings returns the stored activities of type meeting.
func (p *Pipedrive) Meetings() []Landed { return p.landed("meeting") }

// Tasks returns the stored activities of type task.
func (p *Pipedrive) Tasks() []Landed { return p.landed("task") }

// ContactCount counts persons.
func (p *Pipedrive) ContactCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.persons)
}

func pdOK(w http.ResponseWriter, status int, data any, cursor string) {
	var next any
	if cursor != "" {
		next = cursor
	}
	writeJSON(w, status, map[string]any{"success": true, "data": data, "additional_data": map[string]any{"next_cursor": next}})
}

func pdError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"success": false, "error": msg, "errorCode": status, "data": nil})
}

func (p *Pipedrive) activityJSON(id int64, a *pdActivity) map[string]any {
	out := map[string]any{}
	for k, v := range a.raw {
		out[k] = v
	}
	out["id"] = id
	out["add_time"] = a.added.UTC().Format(time.RFC3339)
	out["update_time"] = a.updated.UTC().Format(time.RFC3339)
	return out
}

func (p *Pipedrive) route(w http.ResponseWriter, r *http.Request, body []byte) {
	q := r.URL.Query()
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case r.Method == "GET" && path == "/api/v2/persons/search":
		term := lower(q.Get("term"))
		if len(term) < 2 {
			pdError(w, 400, "term must be at least 2 characters")
			return
		}
		p.mu.Lock()
		var items []map[string]any
		for _, id := range sortedKeys(p.persons) {
			pe := p.persons[id]
			if !p.visible(pe.created) {
				continue
			}
			for _, e := range pe.Emails {
				if (q.Get("exact_match") == "true" && e == term) || (q.Get("exact_match") != "true" && strings.Contains(e, term)) {
					items = append(items, map[string]any{"result_score": 1.0, "item": map[string]any{"id": pe.ID, "type": "person",
						"name": pe.Name, "emails": pe.Emails, "phones": []string{}, "visible_to": 3, "organization": map[string]any{"name": pe.Org}}})
					break
				}
			}
		}
		p.mu.Unlock()
		pdOK(w, 200, map[string]any{"items": items}, "")
	case r.Method == "POST" && path == "/api/v2/persons":
		var in struct {
			Name   string `json:"name"`
			Emails []struct {
				Value   string `json:"value"`
				Primary bool   `json:"primary"`
			} `json:"emails"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.Name == "" {
			pdError(w, 400, "Name must be given")
			return
		}
		p.create(w, 201, func() any {
			pe := &pdPerson{ID: p.id(), Name: in.Name, created: p.clock()}
			for _, e := range in.Emails {
				pe.Emails = append(pe.Emails, lower(e.Value))
			}
			p.persons[pe.ID] = pe
			return map[string]any{"success": true, "data": map[string]any{"id": pe.ID, "name": pe.Name}}
		})
	case r.Method == "GET" && path == "/api/v2/deals":
		pid, _ := strconv.ParseInt(q.Get("person_id"), 10, 64)
		p.mu.Lock()
		var ds []*pdDeal
		for _, d := range p.deals {
			if (pid == 0 || d.PersonID == pid) && (q.Get("status") == "" || d.Status == q.Get("status")) {
				ds = append(ds, d)
			}
		}
		p.mu.Unlock()
		sort.Slice(ds, func(i, j int) bool { return ds[i].Updated.After(ds[j].Updated) })
		var data []map[string]any
		for _, d := range ds {
			data = append(data, map[string]any{"id": d.ID, "title": d.Title, "person_id": d.PersonID, "status": d.Status,
				"update_time": d.Updated.UTC().Format(time.RFC3339)})
		}
		if n, err := strconv.Atoi(q.Get("limit")); err == nil && n < len(data) {
			data = data[:n]
		}
		pdOK(w, 200, data, "")
	case r.Method == "GET" && path == "/api/v2/activities":
		p.listActivities(w, q)
	case r.Method == "POST" && path == "/api/v2/activities":
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil || str(raw["subject"]) == "" || str(raw["type"]) == "" {
			pdError(w, 400, "Subject and type are required")
			return
		}
		if _, err := time.Parse(time.DateOnly, str(raw["due_date"])); raw["due_date"] != nil && err != nil {
			pdError(w, 400, "Invalid due_date")
			return
		}
		p.create(w, 201, func() any {
			id, now := p.id(), p.clock()
			a := &pdActivity{raw: raw, added: now, updated: now}
			p.activities[id] = a
			return map[string]any{"success": true, "data": p.activityJSON(id, a)}
		})
	case r.Method == "PATCH" && strings.HasPrefix(path, "/api/v2/activities/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(path, "/api/v2/activities/"), 10, 64)
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil {
			pdError(w, 400, "Invalid JSON")
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		a := p.activities[id]
		if a == nil {
			pdError(w, 404, "Activity not found")
			return
		}
		for k, v := range raw {
			a.raw[k] = v
		}
		a.updated = p.clock()
		pdOK(w, 200, p.activityJSON(id, a), "")
	default:
		pdError(w, 404, "Unknown method .")
	}
}

func (p *Pipedrive) listActivities(w http.ResponseWriter, q map[string][]string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var since time.Time
	if s := get("updated_since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			pdError(w, 400, "updated_since must be RFC3339")
			return
		}
		since = t
	}
	limit, _ := strconv.Atoi(get("limit"))
	if limit <= 0 {
		limit = 100
	}
	if limit > 500 {
		pdError(w, 400, "limit must be at most 500")
		return
	}
	skip, _ := strconv.Atoi(get("cursor"))
	p.mu.Lock()
	type row struct {
		id int64
		a  *pdActivity
	}
	var rows []row
	for id, a := range p.activities {
		if !a.updated.Before(since.Truncate(time.Second)) && p.visible(a.added) {
			rows = append(rows, row{id, a})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if get("sort_direction") == "desc" {
			return rows[i].a.updated.After(rows[j].a.updated) || rows[i].a.updated.Equal(rows[j].a.updated) && rows[i].id > rows[j].id
		}
		return rows[i].id < rows[j].id
	})
	var data []map[string]any
	cursor := ""
	for i := skip; i < len(rows); i++ {
		if len(data) == limit {
			cursor = strconv.Itoa(i)
			break
		}
		data = append(data, p.activityJSON(rows[i].id, rows[i].a))
	}
	p.mu.Unlock()
	pdOK(w, 200, data, cursor)
}

func sortedKeys[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
