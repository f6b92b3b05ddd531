package nylastest

// Scheduler configurations: /v3/grants/{grant}/scheduling/configurations.

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (s *Server) listConfigurations(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	grant := s.grant(r.PathValue("grant"))
	var mine []map[string]any
	for _, c := range s.configs {
		if c.grant == grant {
			mine = append(mine, c.obj)
		}
	}
	size := s.PageSize
	if size <= 0 {
		size = 50
	}
	if l := intQuery(r, "limit", 50); l < size {
		size = l
	}
	start := 0
	if tok := r.URL.Query().Get("page_token"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "page-"))
		if err != nil || n > len(mine) {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid page_token")
			return
		}
		start = n
	}
	end := min(start+size, len(mine))
	next := ""
	if end < len(mine) {
		next = fmt.Sprintf("page-%d", end)
	}
	page := []map[string]any{}
	page = append(page, mine[start:end]...)
	writeJSON(w, http.StatusOK, map[string]any{"request_id": s.requestID(), "data": page, "next_cursor": next})
}

// config finds configuration id of grant (locked).
func (s *Server) config(grant, id string) *configuration {
	for _, c := range s.configs {
		if c.grant == grant && c.obj["id"] == id {
			return c
		}
	}
	return nil
}

func (s *Server) getConfiguration(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.config(s.grant(r.PathValue("grant")), r.PathValue("id"))
	if c == nil {
		notFound(w, "Configuration")
		return
	}
	s.writeData(w, http.StatusOK, c.obj)
}

func (s *Server) createConfiguration(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if !decodeBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	grant := s.grant(r.PathValue("grant"))
	if grant == "" {
		notFound(w, "Grant")
		return
	}
	for _, k := range []string{"participants", "availability", "event_booking"} {
		if body[k] == nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", k+" is required")
			return
		}
	}
	if msg := s.checkConfiguration(body, ""); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	delete(body, "id")
	s.seq++
	body["id"] = fmt.Sprintf("cfg-%04d", s.seq)
	s.storeConfiguration(body)
	s.configs = append(s.configs, &configuration{grant: grant, obj: body})
	s.writeData(w, http.StatusOK, body)
}

func (s *Server) putConfiguration(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if !decodeBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.config(s.grant(r.PathValue("grant")), r.PathValue("id"))
	if c == nil {
		notFound(w, "Configuration")
		return
	}
	next := clone(c.obj).(map[string]any)
	for k, v := range body {
		if k != "id" {
			next[k] = v // a nested object is replaced whole
		}
	}
	if msg := s.checkConfiguration(next, c.obj["id"].(string)); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	s.storeConfiguration(next)
	c.obj = next
	s.writeData(w, http.StatusOK, c.obj)
}

func (s *Server) deleteConfiguration(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	grant := s.grant(r.PathValue("grant"))
	for i, c := range s.configs {
		if c.grant == grant && c.obj["id"] == r.PathValue("id") {
			s.configs = slices.Delete(s.configs, i, i+1)
			writeJSON(w, http.StatusOK, map[string]any{"request_id": s.requestID()})
			return
		}
	}
	notFound(w, "Configuration")
}

// storeConfiguration drops the ignored fields and fills the defaults
// (locked).
func (s *Server) storeConfiguration(obj map[string]any) {
	for _, p := range s.ignoreConfig {
		setPath(obj, p, nil)
	}
	fillConfigurationDefaults(obj)
}

// checkConfiguration is the part of Nylas' validation the stand-in does:
// slugs unique in the application, participant e-mails present, the
// notetaker only with conferencing (locked).
func (s *Server) checkConfiguration(obj map[string]any, self string) string {
	if slug, _ := obj["slug"].(string); slug != "" {
		for _, c := range s.configs {
			if c.obj["id"] != self && c.obj["slug"] == slug {
				return "slug " + strconv.Quote(slug) + " is already in use"
			}
		}
	}
	for _, p := range asList(obj["participants"]) {
		if e, _ := asMap(p)["email"].(string); e == "" {
			return "participants[].email is required"
		}
	}
	nts := asMap(asMap(obj["scheduler"])["notetaker_settings"])
	if nts["enabled"] == true && len(asMap(asMap(obj["event_booking"])["conferencing"])) == 0 {
		return "notetaker_settings requires event_booking.conferencing"
	}
	return checkMeetingSettings(asMap(nts["meeting_settings"]))
}
