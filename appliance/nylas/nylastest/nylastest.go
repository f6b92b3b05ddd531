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
