package e2e

// Stand-ins for the CRM, the ATS and the alert webhook, with faults: 5xx
// streaks, 429 with Retry-After, timeouts (before and after the work is
// done) and, in the CRM, a permanent 400 for one meeting.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// soakService is a JSON stand-in with state; route runs under mu.
type soakService struct {
	name   string
	apiKey string
	faults *soakFaults
	dice   *soakDice
	srv    *httptest.Server

	mu     sync.Mutex
	streak int // 5xx answers still to give
	route  func(r *http.Request, body []byte) (int, any)
}

func (s *soakService) open() {
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
}

func (s *soakService) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	if s.apiKey != "" && r.Header.Get("Authorization") != "Bearer "+s.apiKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	hangAfter := false
	if !s.faults.calm.Load() {
		s.mu.Lock()
		inStreak := s.streak > 0
		if inStreak {
			s.streak--
		} else if s.dice.chance(0.03) {
			s.streak = 1 + s.dice.intn(5)
			s.faults.add(s.name + ".5xx_streak")
			inStreak = true
		}
		s.mu.Unlock()
		switch {
		case inStreak:
			s.faults.serverError(s.name, s.dice, w)
			return
		case s.dice.chance(0.03):
			s.faults.tooMany(s.name, w)
			return
		case s.dice.chance(0.004):
			if s.dice.chance(0.5) {
				if s.faults.hang(s.name, r) {
					return
				}
			} else {
				hangAfter = true
			}
		}
	}
	s.mu.Lock()
	status, out := s.route(r, body)
	s.mu.Unlock()
	if hangAfter && s.faults.hang(s.name+".after_commit", r) {
		return // done, but the answer never comes: the client must not duplicate it
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if out != nil {
		json.NewEncoder(w).Encode(out)
	}
}

// soakCRM keeps meeting records; creates counts accepted POSTs per
// external_notetaker_id.
type soakCRM struct {
	soakService
	reject  string            // the Notetaker whose POST gets 400, always
	records map[string]string // record ID → Notetaker ID
	creates map[string]int
	patches int
}

func newSoakCRM(faults *soakFaults, dice *soakDice, reject string) *soakCRM {
	c := &soakCRM{reject: reject, records: map[string]string{}, creates: map[string]int{}}
	c.soakService = soakService{name: "crm", apiKey: "soak-crm-key", faults: faults, dice: dice, route: c.handle}
	c.open()
	return c
}

func (c *soakCRM) handle(r *http.Request, body []byte) (int, any) {
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/contacts/search":
		email := r.URL.Query().Get("email")
		return 200, map[string]any{"results": []map[string]string{{"id": "c-" + email, "primary_deal_id": "d-" + email}}}
	case r.Method == "GET" && r.URL.Path == "/api/meetings":
		results := []map[string]string{}
		for id, nt := range c.records {
			if nt == r.URL.Query().Get("external_notetaker_id") {
				results = append(results, map[string]string{"id": id})
			}
		}
		return 200, map[string]any{"results": results}
	case r.Method == "POST" && r.URL.Path == "/api/meetings":
		var m struct {
			ExternalNotetakerID string `json:"external_notetaker_id"`
		}
		if json.Unmarshal(body, &m) != nil || m.ExternalNotetakerID == "" {
			return 400, map[string]string{"error": "bad meeting"}
		}
		if m.ExternalNotetakerID == c.reject {
			c.faults.add("crm.permanent_400")
			return 400, map[string]string{"error": "validation failed: deal is archived"}
		}
		id := fmt.Sprintf("crm-%d", len(c.records)+1)
		c.records[id] = m.ExternalNotetakerID
		c.creates[m.ExternalNotetakerID]++
		return 201, map[string]string{"id": id}
	case r.Method == "PATCH" && strings.HasPrefix(r.URL.Path, "/api/meetings/"):
		if _, ok := c.records[strings.TrimPrefix(r.URL.Path, "/api/meetings/")]; !ok {
			return 404, map[string]string{"error": "no such meeting"}
		}
		c.patches++
		return 200, map[string]string{"id": strings.TrimPrefix(r.URL.Path, "/api/meetings/")}
	}
	return 404, map[string]string{"error": "no route"}
}

// soakInterview is what the ATS holds about one booking.
type soakInterview struct {
	Status, Start, End string
}

// soakATS keeps interviews and recordings. A repeated Idempotency-Key is
// answered again without doing anything (as Stripe-style APIs do), so
// creates counts interviews really created per booking ID, and recordings
// recordings per Notetaker ID.
type soakATS struct {
	soakService
	keys       map[string]bool
	interviews map[string]*soakInterview
	creates    map[string]int
	recordings map[string]int
	replays    int
}

func newSoakATS(faults *soakFaults, dice *soakDice) *soakATS {
	a := &soakATS{keys: map[string]bool{}, interviews: map[string]*soakInterview{}, creates: map[string]int{}, recordings: map[string]int{}}
	a.soakService = soakService{name: "ats", apiKey: "soak-ats-key", faults: faults, dice: dice, route: a.handle}
	a.open()
	return a
}

func (a *soakATS) handle(r *http.Request, body []byte) (int, any) {
	var in struct {
		BookingID   string `json:"booking_id"`
		NotetakerID string `json:"notetaker_id"`
		Status      string `json:"status"`
		Start       string `json:"start_time"`
		End         string `json:"end_time"`
	}
	if json.Unmarshal(body, &in) != nil {
		return 400, map[string]string{"error": "not JSON"}
	}
	key := r.Header.Get("Idempotency-Key")
	if r.Method == "POST" {
		if key == "" {
			return 400, map[string]string{"error": "Idempotency-Key required"}
		}
		if a.keys[key] {
			a.replays++
			return 201, map[string]string{"status": "replayed"}
		}
		a.keys[key] = true
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/api/interviews":
		a.creates[in.BookingID]++
		a.interviews[in.BookingID] = &soakInterview{Status: in.Status, Start: in.Start, End: in.End}
		return 201, map[string]string{"id": in.BookingID}
	case r.Method == "PATCH" && strings.HasPrefix(r.URL.Path, "/api/interviews/"):
		iv, ok := a.interviews[strings.TrimPrefix(r.URL.Path, "/api/interviews/")]
		if !ok {
			return 404, map[string]string{"error": "no such interview"}
		}
		if in.Status != "" {
			iv.Status = in.Status
		}
		if in.Start != "" {
			iv.Start, iv.End = in.Start, in.End
		}
		return 200, map[string]string{"status": "ok"}
	case r.Method == "POST" && r.URL.Path == "/api/interview-recordings":
		a.recordings[in.NotetakerID]++
		return 201, map[string]string{"status": "stored"}
	}
	return 404, map[string]string{"error": "no route"}
}

// soakAlert is one alert the sink received.
type soakAlert struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Message string `json:"message"`
	Time    string `json:"time"`
	Key     string `json:"-"` // Idempotency-Key: one per raised alert and sink
}

// soakAlertSink records every alert; it never fails (an alert about an
// undeliverable alert is only logged, by design).
type soakAlertSink struct {
	soakService
	alerts []soakAlert
}

func newSoakAlertSink(faults *soakFaults, dice *soakDice) *soakAlertSink {
	s := &soakAlertSink{}
	s.soakService = soakService{name: "alerts", faults: faults, dice: dice, route: s.handle}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		s.mu.Lock()
		status, _ := s.handle(r, body)
		s.mu.Unlock()
		w.WriteHeader(status)
	}))
	return s
}

func (s *soakAlertSink) handle(r *http.Request, body []byte) (int, any) {
	var a soakAlert
	if r.Method != "POST" || json.Unmarshal(body, &a) != nil || a.Kind == "" {
		return 400, nil
	}
	a.Key = r.Header.Get("Idempotency-Key")
	s.alerts = append(s.alerts, a)
	return 204, nil
}

// received returns the alerts so far.
func (s *soakAlertSink) received() []soakAlert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]soakAlert(nil), s.alerts...)
}
