package nylastest

// Grants, calendars and events: /v3/grants, /v3/grants/{grant}/calendars/{id},
// /v3/grants/{grant}/events/{id}.

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit, offset := intQuery(r, "limit", 10), intQuery(r, "offset", 0)
	page := []map[string]any{}
	for i := offset; i < len(s.grants) && i < offset+limit; i++ {
		page = append(page, s.grants[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"request_id": s.requestID(), "data": page, "limit": limit, "offset": offset})
}

// grant resolves a grant ID or e-mail to the ID; "" when unknown (locked).
func (s *Server) grant(v string) string {
	for _, g := range s.grants {
		if g["id"] == v || strings.EqualFold(fmt.Sprint(g["email"]), v) {
			return g["id"].(string)
		}
	}
	return ""
}

// calendar finds a calendar, resolving "primary" (locked).
func (s *Server) calendar(grant, id string) map[string]any {
	if id == "primary" {
		for k, c := range s.calendars {
			if strings.HasPrefix(k, grant+"/") && c["is_primary"] == true {
				return c
			}
		}
	}
	return s.calendars[grant+"/"+id]
}

func (s *Server) getCalendar(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calendar(s.grant(r.PathValue("grant")), r.PathValue("id"))
	if c == nil {
		notFound(w, "Calendar")
		return
	}
	s.writeData(w, http.StatusOK, c)
}

func (s *Server) putCalendar(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if !decodeBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calendar(s.grant(r.PathValue("grant")), r.PathValue("id"))
	if c == nil {
		notFound(w, "Calendar")
		return
	}
	for k, v := range body {
		switch k {
		case "notetaker":
			if v == nil {
				delete(c, "notetaker")
				continue
			}
			nt, ok := v.(map[string]any)
			if !ok {
				writeError(w, http.StatusBadRequest, "invalid_request_error", "notetaker must be an object")
				return
			}
			if msg := checkMeetingSettings(asMap(nt["meeting_settings"])); msg != "" {
				writeError(w, http.StatusBadRequest, "invalid_request_error", msg)
				return
			}
			c["notetaker"] = clone(nt)
		case "name", "description", "location", "timezone", "hex_color", "metadata":
			c[k] = v
		default:
			writeError(w, http.StatusBadRequest, "invalid_request_error", "unknown field "+strconv.Quote(k))
			return
		}
	}
	for _, p := range s.ignoreCal {
		setPath(c, p, nil)
	}
	if nt := asMap(c["notetaker"]); nt != nil {
		s.seq++
		fillCalendarNotetaker(nt, fmt.Sprintf("ntc-%04d", s.seq))
	}
	s.writeData(w, http.StatusOK, c)
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Query().Get("calendar_id") == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "calendar_id is required")
		return
	}
	ev, ok := s.events[s.grant(r.PathValue("grant"))+"/"+r.PathValue("id")]
	if !ok {
		notFound(w, "Event")
		return
	}
	s.writeData(w, http.StatusOK, ev)
}
