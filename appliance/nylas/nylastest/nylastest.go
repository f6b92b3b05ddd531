// Package nylastest is a stateful stand-in for the Nylas v3 endpoints that
// `notekeeper nylas plan|apply`, `bot join|cancel|leave` and the follow-up
// e-mail use: grants, calendars (GET/PUT of their notetaker rules), Scheduler
// configurations (list paged by next_cursor, get, create, PUT), Notetakers
// (create, list, get, cancel, leave), events (get) and messages/send with
// Idempotency-Key.
//
// It behaves the way Nylas' contract says (shapes in testdata/, sources in
// testdata/README.md): every request must carry "Authorization: Bearer
// {APIKey}" (else 401 in Nylas' error shape); a write fills in the defaults
// Nylas fills in (meeting settings, buffers, round_to, nullable booleans,
// organizer_locale, …) so a plan must look past them; a PUT replaces each
// top-level key it carries whole and keeps the others; configurations are
// listed PageSize at a time; a bot create is never deduplicated; a send
// with a known Idempotency-Key replays the first answer.
//
// Tests change it behind the client's back to simulate drift (SetCalendar,
// SetConfiguration), make it drop a field on every write (Ignore…), make a
// bot create answer too late (CreateDelay), lose answers (DropAnswer),
// refuse requests (Refuse), and read what ended up in it
// (Calendar, Configurations, Notetakers, Messages, Writes).
package nylastest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	//go:embed testdata/calendar.json
	calendarSample []byte
	//go:embed testdata/configuration.json
	configurationSample []byte
	//go:embed testdata/notetaker.json
	notetakerSample []byte
	//go:embed testdata/message-sent.json
	messageSample []byte
)

// Request is one request the stand-in answered.
type Request struct {
	Method string
	Path   string // decoded, without the query
	Query  string
	Body   string
	Header http.Header
}

// Message is one e-mail the stand-in sent.
type Message struct {
	Grant          string
	IdempotencyKey string
	ID             string
	Body           map[string]any // the request body as sent
}

// Server is the stand-in. Build it with New; it is safe for concurrent use.
type Server struct {
	URL    string
	APIKey string
	// PageSize is how many configurations one list page holds (the limit
	// asked is honoured when smaller); default 50.
	PageSize int
	// CreateDelay makes a bot create store the bot, then wait this long
	// before answering (the client times out: the bot exists anyway).
	CreateDelay time.Duration
	// Now is the stand-in's clock; default time.Now.
	Now func() time.Time

	srv     *httptest.Server
	handler http.Handler
	mu      sync.Mutex
	seq     int

	dropAnswer func(method, path string) bool
	refuse     func(method, path string) (status int, typ, msg string)

	grants       []map[string]any
	calendars    map[string]map[string]any // grant ‖ "/" ‖ calendar id → calendar
	configs      []*configuration
	notetakers   []map[string]any
	events       map[string]map[string]any // grant ‖ "/" ‖ event id → event
	messages     []Message
	idempotent   map[string]idemAnswer // grant ‖ 0 ‖ key → first answer
	ignoreCal    []string
	ignoreConfig []string
	requests     []Request
}

type configuration struct {
	grant string
	obj   map[string]any
}

type idemAnswer struct {
	body   string
	status int
	reply  []byte
}

// TB is the part of testing.TB New uses (so that this package does not
// import testing and can serve the demo simulator in the binary).
type TB interface {
	Helper()
	Cleanup(func())
}

// New starts a stand-in demanding apiKey on a loopback port, closed when t
// ends.
func New(t TB, apiKey string) *Server {
	t.Helper()
	s := NewHandler(apiKey)
	s.srv = httptest.NewServer(s.Handler())
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// NewHandler returns a stand-in demanding apiKey that does not listen:
// serve Handler yourself (the demo simulator mounts it). URL stays empty.
func NewHandler(apiKey string) *Server {
	s := &Server{APIKey: apiKey, calendars: map[string]map[string]any{}, events: map[string]map[string]any{},
		idempotent: map[string]idemAnswer{}}
	s.handler = s.routes()
	return s
}

// Handler serves the stand-in's API.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops a stand-in made by New.
func (s *Server) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v3/grants", s.listGrants)
	mux.HandleFunc("GET /v3/grants/{grant}/calendars/{id}", s.getCalendar)
	mux.HandleFunc("PUT /v3/grants/{grant}/calendars/{id}", s.putCalendar)
	mux.HandleFunc("GET /v3/grants/{grant}/scheduling/configurations", s.listConfigurations)
	mux.HandleFunc("POST /v3/grants/{grant}/scheduling/configurations", s.createConfiguration)
	mux.HandleFunc("GET /v3/grants/{grant}/scheduling/configurations/{id}", s.getConfiguration)
	mux.HandleFunc("PUT /v3/grants/{grant}/scheduling/configurations/{id}", s.putConfiguration)
	mux.HandleFunc("DELETE /v3/grants/{grant}/scheduling/configurations/{id}", s.deleteConfiguration)
	mux.HandleFunc("GET /v3/grants/{grant}/notetakers", s.listNotetakers)
	mux.HandleFunc("POST /v3/grants/{grant}/notetakers", s.createNotetaker)
	mux.HandleFunc("GET /v3/grants/{grant}/notetakers/{id}", s.getNotetaker)
	mux.HandleFunc("DELETE /v3/grants/{grant}/notetakers/{id}/cancel", s.cancelNotetaker)
	mux.HandleFunc("POST /v3/grants/{grant}/notetakers/{id}/leave", s.leaveNotetaker)
	mux.HandleFunc("GET /v3/grants/{grant}/events/{id}", s.getEvent)
	mux.HandleFunc("POST /v3/grants/{grant}/messages/send", s.sendMessage)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Body: string(body), Header: r.Header.Clone()})
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+s.APIKey {
			writeError(w, http.StatusUnauthorized, "unauthorized", "Unauthorized")
			return
		}
		s.mu.Lock()
		refuse, drop := s.refuse, s.dropAnswer
		s.mu.Unlock()
		if refuse != nil {
			if status, typ, msg := refuse(r.Method, r.URL.Path); status != 0 {
				writeError(w, status, typ, msg)
				return
			}
		}
		if drop == nil || !drop(r.Method, r.URL.Path) {
			mux.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(httptest.NewRecorder(), r) // carried out; the answer is lost
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	})
}

// --- what tests set up and read ---

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

// --- handlers ---

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

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "body is not JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	grant := s.grant(r.PathValue("grant"))
	if grant == "" {
		notFound(w, "Grant")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 256 {
		writeError(w, http.StatusBadRequest, "api.invalid_idempotency_key", "Idempotency-Key is too long")
		return
	}
	ikey := grant + "\x00" + key
	if prev, ok := s.idempotent[ikey]; ok && key != "" {
		if prev.body != string(raw) {
			writeError(w, http.StatusConflict, "api.invalid_idempotent_request", "Idempotency-Key reused with a different request")
			return
		}
		w.Header().Set("Idempotent-Response", "true")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(prev.status)
		w.Write(prev.reply)
		return
	}
	if len(asList(body["to"])) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "to is required")
		return
	}
	reply := sampleEnvelope(messageSample)
	s.seq++
	id := fmt.Sprintf("msg-%04d", s.seq)
	data := asMap(reply["data"])
	data["id"], data["grant_id"], data["subject"], data["to"] = id, grant, body["subject"], body["to"]
	data["date"] = s.now().Unix()
	reply["grant_id"], reply["request_id"] = grant, s.requestID()
	b, _ := json.Marshal(reply)
	if key != "" {
		s.idempotent[ikey] = idemAnswer{body: string(raw), status: http.StatusOK, reply: b}
	}
	s.messages = append(s.messages, Message{Grant: grant, IdempotencyKey: key, ID: id, Body: body})
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// --- helpers ---

// requestID returns a fresh request ID (locked).
func (s *Server) requestID() string {
	s.seq++
	return fmt.Sprintf("req-%04d", s.seq)
}

// writeData answers {request_id, data: obj} (locked: obj is encoded now).
func (s *Server) writeData(w http.ResponseWriter, status int, obj any) {
	writeJSON(w, status, map[string]any{"request_id": s.requestID(), "data": obj})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// notFound answers Nylas' 404 for what.
func notFound(w http.ResponseWriter, what string) {
	writeError(w, http.StatusNotFound, "not_found_error", what+" not found")
}

// writeError answers Nylas' error envelope.
func writeError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]any{"request_id": "req-err", "error": map[string]any{"type": typ, "message": msg}})
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "body is not JSON: "+err.Error())
		return false
	}
	return true
}

func intQuery(r *http.Request, name string, def int) int {
	if n, err := strconv.Atoi(r.URL.Query().Get(name)); err == nil {
		return n
	}
	return def
}

// provider names the meeting provider of a link, as Nylas reports it.
func provider(link string) string {
	switch {
	case strings.Contains(link, "zoom."):
		return "Zoom Meeting"
	case strings.Contains(link, "teams."):
		return "Microsoft Teams"
	}
	return "Google Meet"
}
