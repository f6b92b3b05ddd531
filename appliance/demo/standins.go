package demo

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Request is one request a stand-in received.
type Request struct {
	Method string
	Path   string // with the query, as sent
	Body   []byte
	Status int // what the stand-in answered
}

// Short is "METHOD PATH" and, when there is one, the body shortened to n
// bytes (n <= 0: whole).
func (r Request) Short(n int) string {
	s := r.Method + " " + r.Path
	body := strings.TrimSpace(string(r.Body))
	if body == "" {
		return s
	}
	if n > 0 && len(body) > n {
		body = body[:n] + "…"
	}
	return s + " " + body
}

// recorder keeps the requests of one stand-in.
type recorder struct {
	mu   sync.Mutex
	reqs []Request
}

func (rc *recorder) add(r Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.reqs = append(rc.reqs, r)
}

// Requests returns a copy of what was received, in order.
func (rc *recorder) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.reqs...)
}

// standIn is a recording JSON server: it checks the bearer key (when set),
// reads the body (bounded), lets route answer, and records the exchange.
type standIn struct {
	recorder
	srv    server
	apiKey string
	mu     sync.Mutex // serialises route: stand-ins keep state
	route  func(method, path string, query map[string][]string, body []byte) (int, any)
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	req := Request{Method: r.Method, Path: r.URL.RequestURI(), Body: body}
	var status int
	var out any
	switch {
	case err != nil:
		status, out = http.StatusRequestEntityTooLarge, map[string]string{"error": "body too large"}
	case s.apiKey != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+s.apiKey)) != 1:
		status, out = http.StatusUnauthorized, map[string]string{"error": "bad API key"}
	case r.Method != http.MethodGet && len(body) > 0 && !json.Valid(body):
		status, out = http.StatusBadRequest, map[string]string{"error": "body is not JSON"}
	default:
		s.mu.Lock()
		status, out = s.route(r.Method, r.URL.Path, r.URL.Query(), body)
		s.mu.Unlock()
	}
	req.Status = status
	s.add(req)
	if out == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(out)
}

// Open listens on a free 127.0.0.1 port and serves.
func (s *standIn) Open() error { return s.srv.open("stand-in", s) }

// Close stops serving.
func (s *standIn) Close() error { return s.srv.close() }

// URL is the base URL, "" before Open.
func (s *standIn) URL() string { return s.srv.url() }

// CRM is a stand-in CRM implementing the [crm] REST contract: contacts search (it knows one
// contact, CRMContact, with a deal) and meetings upsert (GET by
// external_notetaker_id, POST, PATCH /{id}).
type CRM struct {
	standIn
	meetings map[string]string // record ID → external_notetaker_id
}

// NewCRM returns a CRM requiring apiKey, with the [crm] default paths.
func NewCRM(apiKey string) *CRM {
	c := &CRM{meetings: map[string]string{}}
	c.apiKey = apiKey
	c.route = c.serve
	return c
}

func (c *CRM) serve(method, path string, q map[string][]string, body []byte) (int, any) {
	const meetings = "/api/meetings"
	switch {
	case method == "GET" && path == "/api/contacts/search":
		results := []any{}
		if first(q["email"]) == CRMContact.Email {
			results = append(results, map[string]string{"id": CRMContact.ID, "primary_deal_id": CRMContact.DealID})
		}
		return http.StatusOK, map[string]any{"results": results}
	case method == "GET" && path == meetings:
		results := []any{}
		for id, nt := range c.meetings {
			if nt == first(q["external_notetaker_id"]) {
				results = append(results, map[string]string{"id": id})
			}
		}
		return http.StatusOK, map[string]any{"results": results}
	case method == "POST" && path == meetings:
		var m struct {
			ExternalNotetakerID string `json:"external_notetaker_id"`
		}
		json.Unmarshal(body, &m)
		id := fmt.Sprintf("crm-meeting-%d", len(c.meetings)+1)
		c.meetings[id] = m.ExternalNotetakerID
		return http.StatusCreated, map[string]string{"id": id}
	case method == "PATCH" && strings.HasPrefix(path, meetings+"/"):
		id := strings.TrimPrefix(path, meetings+"/")
		if _, ok := c.meetings[id]; !ok {
			return http.StatusNotFound, map[string]string{"error": "no meeting " + id}
		}
		return http.StatusOK, map[string]string{"id": id}
	}
	return http.StatusNotFound, map[string]string{"error": "no route"}
}

// ATS is a stand-in ATS implementing the [ats] REST contract: interviews (POST, PATCH
// /{booking_id}) and interview recordings (POST).
type ATS struct {
	standIn
	interviews map[string]bool // booking IDs
}

// NewATS returns an ATS requiring apiKey, with the [ats] default paths.
func NewATS(apiKey string) *ATS {
	a := &ATS{interviews: map[string]bool{}}
	a.apiKey = apiKey
	a.route = a.serve
	return a
}

func (a *ATS) serve(method, path string, _ map[string][]string, body []byte) (int, any) {
	const interviews = "/api/interviews"
	switch {
	case method == "POST" && path == interviews:
		var iv struct {
			BookingID string `json:"booking_id"`
		}
		json.Unmarshal(body, &iv)
		a.interviews[iv.BookingID] = true
		return http.StatusCreated, map[string]string{"id": iv.BookingID}
	case method == "PATCH" && strings.HasPrefix(path, interviews+"/"):
		id := strings.TrimPrefix(path, interviews+"/")
		if !a.interviews[id] {
			return http.StatusNotFound, map[string]string{"error": "no interview " + id}
		}
		return http.StatusOK, map[string]string{"id": id}
	case method == "POST" && path == "/api/interview-recordings":
		return http.StatusCreated, map[string]string{"status": "stored"}
	}
	return http.StatusNotFound, map[string]string{"error": "no route"}
}

// AlertSink is a stand-in alert webhook: it accepts every POST with a JSON
// body and records it.
type AlertSink struct {
	standIn
}

// NewAlertSink returns an alert sink (no API key).
func NewAlertSink() *AlertSink {
	s := &AlertSink{}
	s.route = func(method, _ string, _ map[string][]string, _ []byte) (int, any) {
		if method != http.MethodPost {
			return http.StatusMethodNotAllowed, nil
		}
		return http.StatusNoContent, nil
	}
	return s
}

// Alert is one alert the sink received: the body an [[alert]] webhook sink
// is sent.
type Alert struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Message string `json:"message"`
	Time    string `json:"time"`
}

// Alerts decodes the alerts received so far (bodies that are not alerts
// are skipped).
func (s *AlertSink) Alerts() []Alert {
	var out []Alert
	for _, r := range s.Requests() {
		var a Alert
		if json.Unmarshal(r.Body, &a) == nil && a.Kind != "" {
			out = append(out, a)
		}
	}
	return out
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
