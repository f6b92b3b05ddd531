package nylastest

// Notetakers: /v3/grants/{grant}/notetakers: create, get, list, cancel and
// leave.

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

func (s *Server) listNotetakers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	grant := s.grant(r.PathValue("grant"))
	from, to := int64(intQuery(r, "join_time_start", 0)), int64(intQuery(r, "join_time_end", 0))
	page := []map[string]any{}
	for _, n := range s.notetakers {
		jt, _ := n["join_time"].(float64)
		if n["grant_id"] != grant || (from > 0 && int64(jt) < from) || (to > 0 && int64(jt) > to) {
			continue
		}
		page = append(page, n)
	}
	writeJSON(w, http.StatusOK, map[string]any{"request_id": s.requestID(), "data": page, "next_cursor": ""})
}

func (s *Server) createNotetaker(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if !decodeBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	grant := s.grant(r.PathValue("grant"))
	link, _ := body["meeting_link"].(string)
	jt, _ := body["join_time"].(float64)
	now := s.now().Unix()
	var msg string
	switch {
	case grant == "":
		s.mu.Unlock()
		notFound(w, "Grant")
		return
	case link == "":
		msg = "meeting_link is required"
	case jt != 0 && int64(jt) < now:
		msg = "join_time must be in the future"
	}
	if msg != "" {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	n := sampleData(notetakerSample)
	s.seq++
	n["id"], n["grant_id"], n["meeting_link"] = fmt.Sprintf("nt%04d", s.seq), grant, link
	n["join_time"], n["created_at"] = float64(now), float64(now)
	if jt != 0 {
		n["join_time"] = jt
	}
	if name, _ := body["name"].(string); name != "" {
		n["name"] = name
	}
	n["meeting_provider"] = provider(link)
	n["status"] = n["state"]
	if ms := asMap(body["meeting_settings"]); ms != nil {
		n["meeting_settings"] = mergeOver(asMap(n["meeting_settings"]), ms)
	}
	s.notetakers = append(s.notetakers, n)
	answer := clone(n)
	delay := s.CreateDelay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return // the bot exists; the client gave up
		}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"request_id": "req-nt", "data": answer})
}

// notetaker finds a bot of grant (locked).
func (s *Server) notetaker(grant, id string) map[string]any {
	for _, n := range s.notetakers {
		if n["grant_id"] == grant && n["id"] == id {
			return n
		}
	}
	return nil
}

func (s *Server) getNotetaker(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.notetaker(s.grant(r.PathValue("grant")), r.PathValue("id"))
	if n == nil {
		notFound(w, "Notetaker")
		return
	}
	s.writeData(w, http.StatusOK, n)
}

func (s *Server) cancelNotetaker(w http.ResponseWriter, r *http.Request) {
	s.botTransition(w, r, []string{"scheduled", "connecting", "waiting_for_entry"}, "cancelled", http.StatusOK)
}

func (s *Server) leaveNotetaker(w http.ResponseWriter, r *http.Request) {
	s.botTransition(w, r, []string{"attending"}, "disconnected", http.StatusOK)
}

func (s *Server) botTransition(w http.ResponseWriter, r *http.Request, from []string, to string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.notetaker(s.grant(r.PathValue("grant")), r.PathValue("id"))
	if n == nil {
		notFound(w, "Notetaker")
		return
	}
	if !slices.Contains(from, fmt.Sprint(n["state"])) {
		writeError(w, http.StatusConflict, "conflict", "This request isn't supported for the Notetaker's current state.")
		return
	}
	n["state"], n["status"] = to, to
	writeJSON(w, status, map[string]any{"request_id": s.requestID()})
}
