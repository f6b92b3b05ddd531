package crmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Salesforce is a stand-in for a Salesforce org's REST API: the OAuth 2.0
// client-credentials token endpoint (answering instance_url = this
// server), bearer sessions that can expire, the few SOQL queries the
// connector sends (parsed with SOQL's string-literal escapes), sobject create
// and PATCH for Contact, Event, Task and EventRelation, and Salesforce's
// error array (testdata/salesforce-*.json).
type Salesforce struct {
	base
	ClientID, ClientSecret string
	// MarkerField, when false, makes Notekeeper_Id__c unknown (INVALID_FIELD).
	MarkerField bool
	// SharedActivities, when false, refuses EventRelations for contacts.
	SharedActivities bool

	n        int
	sessions map[string]bool
	records  map[string]map[string]any // id → fields (with "type")
	created  map[string]time.Time
}

// NewSalesforce starts a Salesforce stand-in for a connected app.
func NewSalesforce(clientID, clientSecret string) *Salesforce {
	s := &Salesforce{ClientID: clientID, ClientSecret: clientSecret, MarkerField: true, SharedActivities: true,
		sessions: map[string]bool{}, records: map[string]map[string]any{}, created: map[string]time.Time{}}
	s.start(s)
	return s
}

// ExpireSessions invalidates every access token issued so far.
func (s *Salesforce) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = map[string]bool{}
}

var sfPrefix = map[string]string{"Contact": "003", "Account": "001", "Opportunity": "006", "Event": "00U", "Task": "00T", "EventRelation": "0RE", "OpportunityContactRole": "00K"}

func (s *Salesforce) add(typ string, fields map[string]any) string {
	s.n++
	id := fmt.Sprintf("%s%012dAAA", sfPrefix[typ], s.n)
	f := map[string]any{"type": typ}
	for k, v := range fields {
		f[k] = v
	}
	s.records[id] = f
	s.created[id] = time.Now()
	return id
}

func (s *Salesforce) authorized(r *http.Request) bool {
	if r.URL.Path == "/services/oauth2/token" {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
}

func (s *Salesforce) unauthorized(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/services/oauth2/token" {
		writeJSON(w, 400, map[string]string{"error": "invalid_client", "error_description": "invalid client credentials"})
		return
	}
	sfError(w, 401, "INVALID_SESSION_ID", "Session expired or invalid")
}

func (s *Salesforce) fail(w http.ResponseWriter, status int) {
	if status == 503 {
		sfError(w, 503, "SERVER_UNAVAILABLE", "Server is temporarily unavailable")
		return
	}
	if status == 403 {
		sfError(w, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return
	}
	sfError(w, status, "UNKNOWN_EXCEPTION", "scripted failure")
}

func sfError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, []map[string]any{{"message": msg, "errorCode": code, "fields": []string{}}})
}

// AddContact seeds a Contact of Account company.
func (s *Salesforce) AddContact(email, name, company string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var account string
	for id, r := range s.records {
		if r["type"] == "Account" && r["Name"] == company {
			account = id
		}
	}
	if account == "" && company != "" {
		account = s.add("Account", map[string]any{"Name": company})
	}
	first, last, _ := strings.Cut(name, " ")
	return s.add("Contact", map[string]any{"FirstName": first, "LastName": last, "Email": email, "AccountId": account})
}

// AddDeal seeds an open Opportunity with contactID in a contact role.
func (s *Salesforce) AddDeal(contactID, name string) string { return s.addOpp(contactID, name, false) }

// AddClosedDeal seeds a closed Opportunity, which must never be picked.
func (s *Salesforce) AddClosedDeal(contactID, name string) string {
	return s.addOpp(contactID, name, true)
}

func (s *Salesforce) addOpp(contactID, name string, closed bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	opp := s.add("Opportunity", map[string]any{"Name": name, "IsClosed": closed, "LastModifiedDate": time.Now().UTC().Format(time.RFC3339Nano)})
	s.add("OpportunityContactRole", map[string]any{"ContactId": contactID, "OpportunityId": opp, "IsPrimary": true})
	return opp
}

func (s *Salesforce) landed(typ string) []Landed {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Landed
	for id, r := range s.records {
		if r["type"] != typ {
			continue
		}
		l := Landed{ID: id, Title: str(r["Subject"]), Body: str(r["Description"]), DealID: str(r["WhatId"]), Marker: str(r["Notekeeper_Id__c"])}
		l.Start, l.End = parseTime(str(r["StartDateTime"])), parseTime(str(r["EndDateTime"]))
		if who := str(r["WhoId"]); who != "" {
			l.ContactIDs = append(l.ContactIDs, who)
		}
		for _, rid := range s.sortedIDs() {
			rel := s.records[rid]
			if rel["type"] == "EventRelation" && rel["EventId"] == id && rel["IsWhat"] != true && str(rel["RelationId"]) != str(r["WhoId"]) {
				l.ContactIDs = append(l.ContactIDs, str(rel["RelationId"]))
			}
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Salesforce) sortedIDs() []string {
	ids := make([]string, 0, len(s.records))
	for id := range s.records {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Meetings returns the stored Events.
func (s *Salesforce) Meetings() []Landed { return s.landed("Event") }

// Tasks returns the stored Tasks.
func (s *Salesforce) Tasks() []Landed { return s.landed("Task") }

// ContactCount counts Contacts.
func (s *Salesforce) ContactCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.records {
		if r["type"] == "Contact" {
			n++
		}
	}
	return n
}

var sfData = regexp.MustCompile(`^/services/data/v\d+\.\d+(/.*)$`)

func (s *Salesforce) route(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.URL.Path == "/services/oauth2/token" {
		r.ParseForm()
		if r.Method != "POST" || r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != s.ClientID || r.PostForm.Get("client_secret") != s.ClientSecret {
			writeJSON(w, 400, map[string]string{"error": "invalid_client", "error_description": "invalid client credentials"})
			return
		}
		s.mu.Lock()
		s.n++
		token := fmt.Sprintf("00Dxx0000001gEH!AQ4AQ%06d", s.n)
		s.sessions[token] = true
		s.mu.Unlock()
		writeJSON(w, 200, map[string]any{"access_token": token, "instance_url": s.URL(), "id": s.URL() + "/id/00D/005",
			"token_type": "Bearer", "issued_at": fmt.Sprint(time.Now().UnixMilli()), "signature": "c2ln", "scope": "api"})
		return
	}
	m := sfData.FindStringSubmatch(r.URL.Path)
	if m == nil {
		sfError(w, 404, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	path := m[1]
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == "GET" && path == "/query":
		s.query(w, r.URL.Query().Get("q"))
	case r.Method == "POST" && len(parts) == 2 && parts[0] == "sobjects":
		var fields map[string]any
		if err := json.Unmarshal(body, &fields); err != nil {
			sfError(w, 400, "JSON_PARSER_ERROR", "Unexpected character")
			return
		}
		if msg, code := s.validate(parts[1], fields); code != "" {
			sfError(w, 400, code, msg)
			return
		}
		s.create(w, 201, func() any {
			return map[string]any{"id": s.add(parts[1], fields), "success": true, "errors": []any{}}
		})
	case r.Method == "PATCH" && len(parts) == 3 && parts[0] == "sobjects":
		var fields map[string]any
		if err := json.Unmarshal(body, &fields); err != nil {
			sfError(w, 400, "JSON_PARSER_ERROR", "Unexpected character")
			return
		}
		if msg, code := s.validate(parts[1], fields); code != "" {
			sfError(w, 400, code, msg)
			return
		}
		s.mu.Lock()
		rec := s.records[parts[2]]
		if rec == nil || rec["type"] != parts[1] {
			s.mu.Unlock()
			sfError(w, 404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible")
			return
		}
		for k, v := range fields {
			rec[k] = v
		}
		s.mu.Unlock()
		w.WriteHeader(204)
	default:
		sfError(w, 404, "NOT_FOUND", "The requested resource does not exist")
	}
}

func (s *Salesforce) validate(typ string, f map[string]any) (msg, code string) {
	if _, ok := f["Notekeeper_Id__c"]; ok && !s.MarkerField {
		return "No such column 'Notekeeper_Id__c' on sobject of type " + typ, "INVALID_FIELD"
	}
	switch typ {
	case "Contact":
		if str(f["LastName"]) == "" {
			return "Required fields are missing: [LastName]", "REQUIRED_FIELD_MISSING"
		}
	case "Event":
		start, end := parseTime(str(f["StartDateTime"])), parseTime(str(f["EndDateTime"]))
		if start.IsZero() || end.Before(start) {
			return "Required fields are missing: [StartDateTime]", "REQUIRED_FIELD_MISSING"
		}
		if len(str(f["Description"])) > 32000 {
			return "Description: data value too large", "STRING_TOO_LONG"
		}
	case "EventRelation":
		if !s.SharedActivities {
			return "Shared Activities is not enabled", "INVALID_CROSS_REFERENCE_KEY"
		}
	}
	if len(str(f["Subject"])) > 255 {
		return "Subject: data value too large", "STRING_TOO_LONG"
	}
	return "", ""
}

// soqlLiterals parses "'a', 'b\'c'" into its string values.
func soqlLiterals(s string) ([]string, bool) {
	var out []string
	s = strings.TrimSpace(s)
	for s != "" {
		if s[0] != '\'' {
			return nil, false
		}
		var b strings.Builder
		i := 1
		for ; i < len(s) && s[i] != '\''; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case 'b':
					b.WriteByte('\b')
				case 'f':
					b.WriteByte('\f')
				case '\'', '"', '\\':
					b.WriteByte(s[i])
				default:
					return nil, false
				}
				continue
			}
			b.WriteByte(s[i])
		}
		if i >= len(s) {
			return nil, false
		}
		out = append(out, b.String())
		s = strings.TrimSpace(s[i+1:])
		if strings.HasPrefix(s, ",") {
			s = strings.TrimSpace(s[1:])
		} else if s != "" {
			return nil, false
		}
	}
	return out, true
}

var (
	qContacts  = regexp.MustCompile(`^SELECT Id, Email, AccountId FROM Contact WHERE Email IN \((.*)\) ORDER BY CreatedDate$`)
	qRoles     = regexp.MustCompile(`^SELECT ContactId, OpportunityId FROM OpportunityContactRole WHERE ContactId IN \((.*)\) AND Opportunity\.IsClosed = false ORDER BY Opportunity\.LastModifiedDate DESC$`)
	qRelations = regexp.MustCompile(`^SELECT RelationId FROM EventRelation WHERE EventId = ('.*') AND IsWhat = false$`)
)

func (s *Salesforce) query(w http.ResponseWriter, q string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var recs []map[string]any
	row := func(typ, id string, fields ...string) {
		rec := map[string]any{"attributes": map[string]string{"type": typ, "url": "/services/data/v62.0/sobjects/" + typ + "/" + id}}
		for _, f := range fields {
			rec[f] = s.records[id][f]
		}
		rec["Id"] = id
		recs = append(recs, rec)
	}
	bad := func() { sfError(w, 400, "MALFORMED_QUERY", "unexpected token: "+q) }
	switch {
	case qContacts.MatchString(q):
		emails, ok := soqlLiterals(qContacts.FindStringSubmatch(q)[1])
		if !ok {
			bad()
			return
		}
		for _, id := range s.sortedIDs() {
			r := s.records[id]
			for _, e := range emails {
				if r["type"] == "Contact" && strings.EqualFold(str(r["Email"]), e) { // SOQL: case-insensitive
					row("Contact", id, "Email", "AccountId")
					break
				}
			}
		}
	case qRoles.MatchString(q):
		ids, ok := soqlLiterals(qRoles.FindStringSubmatch(q)[1])
		if !ok {
			bad()
			return
		}
		type hit struct{ role, opp, mod string }
		var hits []hit
		for _, id := range s.sortedIDs() {
			r := s.records[id]
			if r["type"] != "OpportunityContactRole" {
				continue
			}
			opp := s.records[str(r["OpportunityId"])]
			for _, c := range ids {
				if r["ContactId"] == c && opp != nil && opp["IsClosed"] != true {
					hits = append(hits, hit{id, str(r["OpportunityId"]), str(opp["LastModifiedDate"])})
				}
			}
		}
		sort.SliceStable(hits, func(i, j int) bool { return hits[i].mod > hits[j].mod })
		for _, h := range hits {
			row("OpportunityContactRole", h.role, "ContactId", "OpportunityId")
		}
	case strings.HasPrefix(q, "SELECT Id FROM Event WHERE Notekeeper_Id__c") || strings.HasPrefix(q, "SELECT Id FROM Task WHERE Notekeeper_Id__c"):
		if !s.MarkerField {
			sfError(w, 400, "INVALID_FIELD", "No such column 'Notekeeper_Id__c' on entity 'Event'")
			return
		}
		typ := strings.Fields(q)[3]
		rest := strings.TrimPrefix(q, "SELECT Id FROM "+typ+" WHERE Notekeeper_Id__c = ")
		rest = strings.TrimSuffix(strings.TrimSuffix(rest, " LIMIT 1"), " ORDER BY CreatedDate")
		vals, ok := soqlLiterals(rest)
		if !ok || len(vals) != 1 {
			bad()
			return
		}
		for _, id := range s.sortedIDs() {
			if r := s.records[id]; r["type"] == typ && r["Notekeeper_Id__c"] == vals[0] {
				row(typ, id)
				break
			}
		}
	case qRelations.MatchString(q):
		vals, ok := soqlLiterals(qRelations.FindStringSubmatch(q)[1])
		if !ok || len(vals) != 1 {
			bad()
			return
		}
		for _, id := range s.sortedIDs() {
			if r := s.records[id]; r["type"] == "EventRelation" && r["EventId"] == vals[0] && r["IsWhat"] != true {
				row("EventRelation", id, "RelationId")
			}
		}
	default:
		bad()
		return
	}
	if recs == nil {
		recs = []map[string]any{}
	}
	writeJSON(w, 200, map[string]any{"totalSize": len(recs), "done": true, "records": recs})
}
