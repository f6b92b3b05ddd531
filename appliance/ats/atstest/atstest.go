// Package atstest holds stateful httptest stand-ins for the ATS vendors
// notekeeper writes to: Lever, Ashby and Greenhouse Harvest v3. Each is
// built from the vendor's documented request and answer shapes (samples in
// testdata/, sources in testdata/README.md), demands the vendor's
// authentication, answers the vendor's error shapes (Ashby: HTTP 200 with
// success:false) and keeps what was written, so tests judge what ended up in
// the ATS rather than which requests were sent.
//
// Every stand-in embeds Faults, the knobs tests turn: fail the next N
// requests with a status, hold a create's answer until the test commits it
// (a process killed while its create is in flight), commit a create and cut
// the connection (an answer lost), and delay search visibility of new
// records.
package atstest

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Record is an interview or a note as a stand-in keeps it.
type Record struct {
	ID            string
	CandidateID   string
	ApplicationID string
	Start, End    time.Time
	Status        string // interviews: "scheduled" | "cancelled" | "deleted"
	Text          string // notes: the body; interviews: subject and note
	Interviewers  []string
	Key           string // the vendor's external key: extraData booking ID, external_event_id
	Created       time.Time
}

// Request is one request a stand-in received.
type Request struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

// Faults are the knobs common to every stand-in. The zero value injects
// nothing.
type Faults struct {
	mu       sync.Mutex
	failN    int
	failCode int
	cutN     int
	holds    int
	held     chan struct{}
	release  chan struct{}
	lag      time.Duration
	reqs     []Request
	creates  int
}

// FailNext answers the next n requests with status code (429, 503, …)
// before any other handling.
func (f *Faults) FailNext(n, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failN, f.failCode = n, code
}

// CutNext makes the next n creates commit and then cut the connection
// without an answer: the caller cannot know it landed.
func (f *Faults) CutNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cutN = n
}

// Hold makes the next create wait, before it commits, until commit is
// called; held is closed when that create has arrived. After commit the
// create commits and answers (to whoever is still listening).
func (f *Faults) Hold() (held <-chan struct{}, commit func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holds = 1
	f.held, f.release = make(chan struct{}), make(chan struct{})
	rel := f.release
	var once sync.Once
	return f.held, func() { once.Do(func() { close(rel) }) }
}

// Lag keeps new records out of searches for d after their create.
func (f *Faults) Lag(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lag = d
}

// Creates counts create requests that committed.
func (f *Faults) Creates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.creates
}

// Requests returns every request received, in order.
func (f *Faults) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

// visible reports whether a record created at t shows in searches.
func (f *Faults) visible(t time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Since(t) >= f.lag
}

// wrap records each request and injects FailNext.
func (f *Faults) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		f.mu.Lock()
		f.reqs = append(f.reqs, Request{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(body)})
		fail := 0
		if f.failN > 0 {
			f.failN--
			fail = f.failCode
		}
		f.mu.Unlock()
		if fail != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(fail)
			w.Write([]byte(`{"message":"injected failure"}`))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// create runs commit (which stores the record under the stand-in's lock and
// returns the answer) honouring Hold and CutNext, then answers.
func (f *Faults) create(w http.ResponseWriter, status int, commit func() any) {
	f.mu.Lock()
	hold := f.holds > 0
	var held, release chan struct{}
	if hold {
		f.holds--
		held, release = f.held, f.release
	}
	f.mu.Unlock()
	if hold {
		close(held)
		<-release // the caller may be gone by now: the create lands anyway
	}
	ans := commit()
	f.mu.Lock()
	f.creates++
	cut := f.cutN > 0
	if cut {
		f.cutN--
	}
	f.mu.Unlock()
	if cut {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
	}
	writeJSON(w, status, ans)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Sample returns testdata/name, a documented vendor sample.
func Sample(name string) []byte {
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "testdata", name))
	if err != nil {
		panic(err)
	}
	return b
}

func copyRecords(m map[string]*Record, order []string) []Record {
	out := make([]Record, 0, len(order))
	for _, id := range order {
		r := *m[id]
		r.Interviewers = append([]string(nil), r.Interviewers...)
		out = append(out, r)
	}
	return out
}
