package nylastest

// What tests set up on the stand-in and read back from it.

import (
	"fmt"
	"net/http"
	"slices"
)

// DropAnswer makes the stand-in carry out each request fn is true for and
// then close the connection without answering: the client cannot know
// whether it happened. nil ends it.
func (s *Server) DropAnswer(fn func(method, path string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropAnswer = fn
}

// Refuse makes the stand-in answer each request fn returns a status for
// with that error (Nylas' envelope with typ and msg), doing nothing. nil
// ends it.
func (s *Server) Refuse(fn func(method, path string) (status int, typ, msg string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = fn
}

// AddGrant adds a valid grant.
func (s *Server) AddGrant(id, email, provider string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants = append(s.grants, map[string]any{"id": id, "email": email, "provider": provider,
		"grant_status": "valid", "created_at": s.now().Unix()})
}

// AddCalendar adds calendar id to grant, without Notetaker rules; a primary
// calendar also answers to "primary".
func (s *Server) AddCalendar(grant, id string, primary bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := sampleData(calendarSample)
	c["id"], c["grant_id"], c["is_primary"] = id, grant, primary
	s.calendars[grant+"/"+id] = c
}

// AddEvent adds a calendar event with participants given as e-mail, name
// pairs.
func (s *Server) AddEvent(grant, id, calendarID, title string, participants ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ps []any
	for i := 0; i+1 < len(participants); i += 2 {
		ps = append(ps, map[string]any{"email": participants[i], "name": participants[i+1], "status": "yes"})
	}
	s.events[grant+"/"+id] = map[string]any{"id": id, "grant_id": grant, "calendar_id": calendarID,
		"title": title, "participants": ps, "object": "event"}
}

// AddConfiguration stores obj as a configuration of grant, as if made in the
// dashboard, with Nylas' defaults filled in, and returns its ID.
func (s *Server) AddConfiguration(grant string, obj map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj = clone(obj).(map[string]any)
	s.seq++
	obj["id"] = fmt.Sprintf("cfg-%04d", s.seq)
	fillConfigurationDefaults(obj)
	s.configs = append(s.configs, &configuration{grant: grant, obj: obj})
	return obj["id"].(string)
}

// Calendar returns a copy of a calendar, nil when unknown.
func (s *Server) Calendar(grant, id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calendars[grant+"/"+id]
	if !ok {
		return nil
	}
	return clone(c).(map[string]any)
}

// Configurations returns copies of grant's configurations, oldest first.
func (s *Server) Configurations(grant string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, c := range s.configs {
		if c.grant == grant {
			out = append(out, clone(c.obj).(map[string]any))
		}
	}
	return out
}

// Notetakers returns copies of every bot created, oldest first.
func (s *Server) Notetakers() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clone(s.notetakers).([]map[string]any)
}

// SetNotetakerState sets a bot's state (and status), e.g. "attending".
func (s *Server) SetNotetakerState(id, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.notetakers {
		if n["id"] == id {
			n["state"], n["status"] = state, state
		}
	}
}

// SetNotetaker changes bot id behind the client's back, as SetCalendar
// does (e.g. "join_time").
func (s *Server) SetNotetaker(id, path string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.notetakers {
		if n["id"] == id {
			setPath(n, path, v)
		}
	}
}

// Messages returns the e-mails sent, oldest first (a replayed key is not
// sent again).
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Requests returns every request answered, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Writes returns the requests that could change something (every method
// but GET).
func (s *Server) Writes() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

// SetCalendar changes a calendar behind the client's back: the value at
// the dotted path (e.g. "notetaker.rules.event_selection") becomes v, or is
// removed when v is nil. Use it to simulate drift.
func (s *Server) SetCalendar(grant, id, path string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.calendars[grant+"/"+id]; ok {
		setPath(c, path, v)
	}
}

// SetConfiguration changes configuration id behind the client's back, as
// SetCalendar does (e.g. "availability.duration_minutes").
func (s *Server) SetConfiguration(id, path string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.configs {
		if c.obj["id"] == id {
			setPath(c.obj, path, v)
		}
	}
}

// IgnoreCalendarField makes every calendar write drop the dotted path (e.g.
// "notetaker.meeting_settings.leave_after_silence_seconds"): Nylas answers
// 200 and keeps its default.
func (s *Server) IgnoreCalendarField(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignoreCal = append(s.ignoreCal, path)
}

// IgnoreConfigurationField does for configurations what IgnoreCalendarField
// does for calendars (e.g. "scheduler.notetaker_settings.notetaker_name").
func (s *Server) IgnoreConfigurationField(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignoreConfig = append(s.ignoreConfig, path)
}
