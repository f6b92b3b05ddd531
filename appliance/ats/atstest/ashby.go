package atstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Ashby is a stand-in for Ashby's RPC-style API: POST /{category}.{method}
// with a JSON body. It demands Basic auth with Key as the user name (401
// without credentials, 403 with wrong ones) and answers every other error as
// HTTP 200 {success:false, errorInfo:{code, message}}.
type Ashby struct {
	*httptest.Server
	Faults
	Key string

	mu         sync.Mutex
	candidates []json.RawMessage
	apps       map[string]json.RawMessage
	users      []json.RawMessage
	scheds     map[string]*ashbySchedule
	sOrder     []string
	notes      map[string]*Record
	nOrder     []string
	errN       int
	errCode    string
	seq        int
}

type ashbySchedule struct {
	appID   string
	status  string // Scheduled | Cancelled
	eventID string
	rec     *Record
	extra   map[string]string
	created time.Time
}

// NewAshby starts an Ashby stand-in seeded with testdata/ashby-*.json.
func NewAshby(key string) *Ashby {
	s := &Ashby{Key: key, apps: map[string]json.RawMessage{}, scheds: map[string]*ashbySchedule{}, notes: map[string]*Record{}}
	results := func(name string) []json.RawMessage {
		var list struct{ Results []json.RawMessage }
		json.Unmarshal(Sample(name), &list)
		return list.Results
	}
	s.candidates = results("ashby-candidates.json")
	for _, a := range results("ashby-applications.json") {
		var v struct{ ID string }
		json.Unmarshal(a, &v)
		s.apps[v.ID] = a
	}
	s.users = results("ashby-users.json")
	s.Server = httptest.NewServer(s.wrap(http.HandlerFunc(s.serve)))
	return s
}

// ErrorNext answers the next n calls with HTTP 200 and success:false
// carrying code (e.g. "invalid_input").
func (s *Ashby) ErrorNext(n int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errN, s.errCode = n, code
}

func ashbyFail(w http.ResponseWriter, code, msg string) {
	writeJSON(w, 200, map[string]any{"success": false, "errorInfo": map[string]string{"code": code, "message": msg, "requestId": "req-standin"},
		"errors": []string{code}})
}

func ok(w http.ResponseWriter, results any) {
	writeJSON(w, 200, map[string]any{"success": true, "results": results})
}

func (s *Ashby) serve(w http.ResponseWriter, r *http.Request) {
	u, p, hasAuth := r.BasicAuth()
	switch {
	case !hasAuth:
		writeJSON(w, 401, map[string]any{"success": false, "errorInfo": map[string]string{"code": "unauthenticated", "message": "Missing API key"}})
		return
	case u != s.Key || p != "":
		writeJSON(w, 403, map[string]any{"success": false, "errorInfo": map[string]string{"code": "invalid_api_key", "message": "Invalid or deactivated API key"}})
		return
	case r.Method != "POST":
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		ashbyFail(w, "invalid_input", "body must be a JSON object")
		return
	}
	s.mu.Lock()
	if s.errN > 0 {
		s.errN--
		code := s.errCode
		s.mu.Unlock()
		ashbyFail(w, code, "injected error")
		return
	}
	s.mu.Unlock()
	str := func(k string) string { v, _ := in[k].(string); return v }
	switch strings.TrimPrefix(r.URL.Path, "/") {
	case "apiKey.info":
		ok(w, map[string]any{"title": "notekeeper", "createdAt": "2024-01-01T00:00:00.000Z"})
	case "user.info":
		s.userInfo(w, str("userId"))
	case "candidate.search":
		s.search(w, str("email"), str("name"))
	case "application.info":
		s.mu.Lock()
		a, found := s.apps[str("applicationId")]
		s.mu.Unlock()
		if !found {
			ashbyFail(w, "application_not_found", "Application not found")
			return
		}
		writeJSON(w, 200, map[string]any{"success": true, "results": a})
	case "interviewSchedule.create":
		s.createSchedule(w, in)
	case "interviewSchedule.list":
		s.listSchedules(w, str("applicationId"))
	case "interviewSchedule.update":
		s.updateSchedule(w, in)
	case "interviewSchedule.cancel":
		s.cancelSchedule(w, str("id"))
	case "candidate.createNote":
		s.createNote(w, in)
	case "candidate.listNotes":
		s.listNotes(w, str("candidateId"))
	default:
		ashbyFail(w, "invalid_endpoint", "unknown endpoint "+r.URL.Path)
	}
}

func (s *Ashby) userInfo(w http.ResponseWriter, id string) {
	for _, u := range s.users {
		var v struct{ ID string }
		json.Unmarshal(u, &v)
		if v.ID == id {
			writeJSON(w, 200, map[string]any{"success": true, "results": u})
			return
		}
	}
	ashbyFail(w, "user_not_found", "User not found")
}

func (s *Ashby) search(w http.ResponseWriter, email, name string) {
	if email == "" && name == "" {
		ashbyFail(w, "invalid_input", "email or name is required")
		return
	}
	out := []json.RawMessage{}
	for _, c := range s.candidates {
		var v struct {
			Name           string
			EmailAddresses []struct{ Value string }
		}
		json.Unmarshal(c, &v)
		match := email == "" || slices.ContainsFunc(v.EmailAddresses, func(e struct{ Value string }) bool { return strings.EqualFold(e.Value, email) })
		if match && (name == "" || strings.EqualFold(v.Name, name)) {
			out = append(out, c)
		}
	}
	ok(w, out)
}

func (s *Ashby) scheduleJSON(id string) map[string]any {
	sc := s.scheds[id]
	return map[string]any{"id": id, "status": sc.status, "applicationId": sc.appID, "interviewStageId": "b3e1c1b0-5d4a-4f7e-8c2b-1a0f9e8d7c01",
		"interviewEvents": []any{map[string]any{"id": sc.eventID, "interviewId": "default", "startTime": sc.rec.Start.Format(time.RFC3339Nano),
			"endTime": sc.rec.End.Format(time.RFC3339Nano), "interviewers": interviewersJSON(sc.rec.Interviewers),
			"extraData": sc.extra, "meetingLink": nil, "feedbackLink": "https://app.ashbyhq.com/feedback/" + sc.eventID}}}
}

func interviewersJSON(emails []string) []any {
	var out []any
	for _, e := range emails {
		out = append(out, map[string]any{"email": e})
	}
	return out
}

type ashbyEvent struct {
	InterviewEventID string                   `json:"interviewEventId"`
	StartTime        string                   `json:"startTime"`
	EndTime          string                   `json:"endTime"`
	Interviewers     []struct{ Email string } `json:"interviewers"`
	ExtraData        map[string]string        `json:"extraData"`
}

func (s *Ashby) decodeEvent(w http.ResponseWriter, v any) (*ashbyEvent, time.Time, time.Time, bool) {
	b, _ := json.Marshal(v)
	var ev ashbyEvent
	json.Unmarshal(b, &ev)
	start, err1 := time.Parse(time.RFC3339, ev.StartTime)
	end, err2 := time.Parse(time.RFC3339, ev.EndTime)
	if err1 != nil || err2 != nil || !end.After(start) {
		ashbyFail(w, "invalid_input", "startTime and endTime must be ISO 8601 and in order")
		return nil, start, end, false
	}
	size := 0
	for k, v := range ev.ExtraData {
		if len(k) > 100 || len(v) > 512 {
			ashbyFail(w, "invalid_input", "extraData keys ≤ 100 and values ≤ 512 characters")
			return nil, start, end, false
		}
		size += len(k) + len(v)
	}
	if size >= 1024 {
		ashbyFail(w, "invalid_input", "extraData must be under 1 KB")
		return nil, start, end, false
	}
	return &ev, start.UTC(), end.UTC(), true
}

func (s *Ashby) createSchedule(w http.ResponseWriter, in map[string]any) {
	appID, _ := in["applicationId"].(string)
	events, _ := in["interviewEvents"].([]any)
	s.mu.Lock()
	_, known := s.apps[appID]
	s.mu.Unlock()
	if !known {
		ashbyFail(w, "application_not_found", "Application not found")
		return
	}
	if len(events) != 1 {
		ashbyFail(w, "invalid_input", "interviewEvents is required")
		return
	}
	ev, start, end, valid := s.decodeEvent(w, events[0])
	if !valid {
		return
	}
	s.create(w, 200, func() any {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.seq++
		id := fmt.Sprintf("5e1b0a2c-0000-4000-8000-%012d", s.seq)
		rec := &Record{ID: id, ApplicationID: appID, Start: start, End: end, Status: "scheduled", Key: ev.ExtraData["notekeeper_booking_id"], Created: time.Now()}
		for _, i := range ev.Interviewers {
			rec.Interviewers = append(rec.Interviewers, i.Email)
		}
		s.scheds[id] = &ashbySchedule{appID: appID, status: "Scheduled", eventID: fmt.Sprintf("e7a3c9d1-0000-4000-8000-%012d", s.seq), rec: rec, extra: ev.ExtraData, created: rec.Created}
		s.sOrder = append(s.sOrder, id)
		return map[string]any{"success": true, "results": s.scheduleJSON(id)}
	})
}

func (s *Ashby) listSchedules(w http.ResponseWriter, appID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, id := range s.sOrder {
		if sc := s.scheds[id]; (appID == "" || sc.appID == appID) && s.visible(sc.created) {
			out = append(out, s.scheduleJSON(id))
		}
	}
	writeJSON(w, 200, map[string]any{"success": true, "results": out, "moreDataAvailable": false})
}

func (s *Ashby) updateSchedule(w http.ResponseWriter, in map[string]any) {
	id, _ := in["interviewScheduleId"].(string)
	ev, start, end, valid := s.decodeEvent(w, in["interviewEvent"])
	if !valid {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.scheds[id]
	switch {
	case sc == nil:
		ashbyFail(w, "interview_schedule_not_found", "Interview schedule not found")
	case sc.status == "Cancelled":
		ashbyFail(w, "invalid_input", "Interview schedule is cancelled")
	case ev.InterviewEventID != "" && ev.InterviewEventID != sc.eventID:
		ashbyFail(w, "interview_event_not_found", "Interview event not found")
	default:
		sc.rec.Start, sc.rec.End = start, end
		ok(w, s.scheduleJSON(id))
	}
}

func (s *Ashby) cancelSchedule(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.scheds[id]
	if sc == nil {
		ashbyFail(w, "interview_schedule_not_found", "Interview schedule not found")
		return
	}
	sc.status, sc.rec.Status = "Cancelled", "cancelled"
	ok(w, s.scheduleJSON(id))
}

func (s *Ashby) candidateKnown(id string) bool {
	for _, c := range s.candidates {
		var v struct{ ID string }
		json.Unmarshal(c, &v)
		if v.ID == id {
			return true
		}
	}
	return false
}

func (s *Ashby) createNote(w http.ResponseWriter, in map[string]any) {
	cid, _ := in["candidateId"].(string)
	text := ""
	switch n := in["note"].(type) {
	case string:
		text = n
	case map[string]any:
		text, _ = n["value"].(string)
		if t, _ := n["type"].(string); t != "text/plain" && t != "text/html" {
			ashbyFail(w, "invalid_input", "note.type must be text/plain or text/html")
			return
		}
	}
	if !s.candidateKnown(cid) {
		ashbyFail(w, "candidate_not_found", "Candidate not found")
		return
	}
	if text == "" {
		ashbyFail(w, "invalid_input", "note is required")
		return
	}
	s.create(w, 200, func() any {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.seq++
		id := fmt.Sprintf("a0b1c2d3-0000-4000-8000-%012d", s.seq)
		s.notes[id] = &Record{ID: id, CandidateID: cid, Text: text, Created: time.Now()}
		s.nOrder = append(s.nOrder, id)
		return map[string]any{"success": true, "results": map[string]any{"id": id, "createdAt": time.Now().UTC().Format(time.RFC3339),
			"content": text, "isPrivate": false, "author": map[string]string{"id": "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"}}}
	})
}

func (s *Ashby) listNotes(w http.ResponseWriter, cid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, id := range s.nOrder {
		if n := s.notes[id]; n.CandidateID == cid && s.visible(n.Created) {
			out = append(out, map[string]any{"id": id, "content": n.Text, "createdAt": n.Created.UTC().Format(time.RFC3339)})
		}
	}
	writeJSON(w, 200, map[string]any{"success": true, "results": out, "moreDataAvailable": false})
}

// Interviews returns every interview event written (cancelled schedules
// with status "cancelled").
func (s *Ashby) Interviews() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]*Record{}
	for id, sc := range s.scheds {
		m[id] = sc.rec
	}
	return copyRecords(m, s.sOrder)
}

// Notes returns every note written.
func (s *Ashby) Notes() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyRecords(s.notes, s.nOrder)
}
