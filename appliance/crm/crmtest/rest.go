package crmtest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// REST is a stand-in for a server of notekeeper's own CRM contract (README,
// "CRM"): bearer auth, contacts by e-mail, meeting records found by
// external_notetaker_id, POST honouring Idempotency-Key (a replayed key
// answers the record it made), PATCH, and 429 with Retry-After.
type REST struct {
	base
	APIKey string

	n        int
	contacts map[string][2]string // email → contact ID, deal ID
	meetings map[string]map[string]any
	idem     map[string]string // Idempotency-Key → record ID
}

// NewREST starts a rest-contract stand-in accepting apiKey.
func NewREST(apiKey string) *REST {
	r := &REST{APIKey: apiKey, contacts: map[string][2]string{}, meetings: map[string]map[string]any{}, idem: map[string]string{}}
	r.start(r)
	return r
}

func (s *REST) authorized(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Bearer "+s.APIKey
}

func (s *REST) unauthorized(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 401, map[string]string{"error": "unauthorized"})
}

func (s *REST) fail(w http.ResponseWriter, status int) {
	if status == 429 {
		w.Header().Set("Retry-After", "0.02")
	}
	writeJSON(w, status, map[string]string{"error": "scripted"})
}

// AddContact seeds a contact (company is not part of the contract).
func (s *REST) AddContact(email, _, _ string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	id := "c" + strconv.Itoa(s.n)
	s.contacts[lower(email)] = [2]string{id, ""}
	return id
}

// AddDeal makes deal the contact's primary_deal_id.
func (s *REST) AddDeal(contactID, _ string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	deal := "d" + strconv.Itoa(s.n)
	for e, c := range s.contacts {
		if c[0] == contactID {
			s.contacts[e] = [2]string{c[0], deal}
		}
	}
	return deal
}

// Meetings returns the stored meeting records.
func (s *REST) Meetings() []Landed {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Landed
	for id, m := range s.meetings {
		l := Landed{ID: id, Title: str(m["subject"]), Marker: str(m["external_notetaker_id"]), DealID: str(m["associated_deal_id"]),
			Start: parseTime(str(m["starts_at"])), End: parseTime(str(m["ends_at"]))}
		var b strings.Builder
		b.WriteString(str(m["summary"]) + "\n")
		if items, ok := m["action_items"].([]any); ok {
			for _, it := range items {
				b.WriteString(str(it) + "\n")
			}
		}
		b.WriteString(str(m["recording_url"]) + "\n" + str(m["transcript_url"]))
		l.Body = b.String()
		if cs, ok := m["associated_contact_ids"].([]any); ok {
			for _, c := range cs {
				l.ContactIDs = append(l.ContactIDs, str(c))
			}
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Tasks: the contract has none.
func (s *REST) Tasks() []Landed { return nil }

// ContactCount counts contacts.
func (s *REST) ContactCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.contacts)
}

func (s *REST) route(w http.ResponseWriter, r *http.Request, body []byte) {
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/contacts/search":
		s.mu.Lock()
		c, ok := s.contacts[lower(r.URL.Query().Get("email"))]
		s.mu.Unlock()
		res := []map[string]any{}
		if ok {
			var deal any
			if c[1] != "" {
				deal = c[1]
			}
			res = append(res, map[string]any{"id": c[0], "primary_deal_id": deal})
		}
		writeJSON(w, 200, map[string]any{"results": res})
	case r.Method == "GET" && r.URL.Path == "/api/meetings":
		s.mu.Lock()
		res := []map[string]string{}
		for id, m := range s.meetings {
			if m["external_notetaker_id"] == r.URL.Query().Get("external_notetaker_id") && s.visible(s.createdAt(m)) {
				res = append(res, map[string]string{"id": id})
			}
		}
		s.mu.Unlock()
		writeJSON(w, 200, map[string]any{"results": res})
	case r.Method == "POST" && r.URL.Path == "/api/meetings":
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || str(m["external_notetaker_id"]) == "" {
			writeJSON(w, 400, map[string]string{"error": "bad meeting"})
			return
		}
		key := r.Header.Get("Idempotency-Key")
		s.create(w, 201, func() any {
			if id, ok := s.idem[key]; ok && key != "" {
				return map[string]string{"id": id}
			}
			s.n++
			id := "m" + strconv.Itoa(s.n)
			m["_created"] = s.clock().Format(time.RFC3339Nano)
			s.meetings[id] = m
			if key != "" {
				s.idem[key] = id
			}
			return map[string]string{"id": id}
		})
	case r.Method == "PATCH" && strings.HasPrefix(r.URL.Path, "/api/meetings/"):
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			writeJSON(w, 400, map[string]string{"error": "bad meeting"})
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		id := strings.TrimPrefix(r.URL.Path, "/api/meetings/")
		old, ok := s.meetings[id]
		if !ok {
			writeJSON(w, 404, map[string]string{"error": "no such meeting"})
			return
		}
		m["_created"] = old["_created"]
		s.meetings[id] = m
		writeJSON(w, 200, map[string]string{"id": id})
	default:
		writeJSON(w, 404, map[string]string{"error": "no route"})
	}
}

func (s *REST) createdAt(m map[string]any) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, str(m["_created"]))
	return t
}
