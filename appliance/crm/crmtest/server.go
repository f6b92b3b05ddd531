// Package crmtest holds stateful stand-ins for the CRMs notekeeper's
// connectors speak to: HubSpot, Pipedrive, Salesforce and Close, and a
// server of notekeeper's own rest contract. Each is an
// httptest server built from the vendor's documented request and answer
// shapes (samples in testdata/, sources named in testdata/README.md). It keeps
// what it was asked to create, demands the vendor's credentials, answers
// with the vendor's error shapes, and has knobs for the failures that matter
// to exactly-once delivery: rate limits, outages, a create whose answer is
// lost, search results that lag behind creates, revoked credentials.
//
// Tests judge outcomes by what a stand-in stored (Meetings, Tasks), never by
// what the connector says it did.
package crmtest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Landed is a stored meeting or task, read back in vendor-neutral terms so
// one table of tests can judge every vendor.
type Landed struct {
	ID         string
	Title      string
	Body       string // the text shown in the CRM (HTML where the vendor takes HTML)
	Start, End time.Time
	ContactIDs []string // every associated contact, primary first
	DealID     string
	CompanyID  string
	Marker     string // the notekeeper marker found on the record
}

// Seen is one request the stand-in received.
type Seen struct {
	Method, URL string
	Header      http.Header
	Body        string
}

// StandIn is what the vendor-neutral tests use of every stand-in.
type StandIn interface {
	URL() string
	// AddContact seeds a contact of company (a Close lead, a HubSpot
	// company, a Salesforce account, a Pipedrive organization's name) and
	// returns its ID.
	AddContact(email, name, company string) string
	// AddDeal seeds an open deal/opportunity linked to contact and returns
	// its ID.
	AddDeal(contactID, name string) string
	Meetings() []Landed
	Tasks() []Landed
	ContactCount() int
	Knobs() *Knobs
}

// Knobs are the failure controls every stand-in shares. Safe for
// concurrent use.
type Knobs struct {
	mu       sync.Mutex
	failures []failure
	cut      int
	hold     chan chan struct{}
	lag      time.Duration
	revoked  bool
	seen     []Seen
	creates  int
	now      func() time.Time
}

type failure struct{ status int }

// FailNext makes the next n requests answer status (429 with the vendor's
// rate-limit headers, 503, …) before doing anything.
func (k *Knobs) FailNext(n, status int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for range n {
		k.failures = append(k.failures, failure{status: status})
	}
}

// CutNextCreate makes the next create commit and then drop the connection
// without an answer: the client cannot know the record exists.
func (k *Knobs) CutNextCreate() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cut++
}

// HoldNextCreate makes the next create wait, uncommitted, until commit is
// called; then it commits and answers (to a client that may be gone — a
// process killed while its create was in flight).
func (k *Knobs) HoldNextCreate() (commit func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	release := make(chan struct{})
	if k.hold == nil {
		k.hold = make(chan chan struct{}, 8)
	}
	k.hold <- release
	var once sync.Once
	return func() { once.Do(func() { close(release) }) }
}

// SetLag hides records from searches until lag after their creation.
func (k *Knobs) SetLag(lag time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lag = lag
}

// Revoke makes every request answer the vendor's invalid-credentials error.
func (k *Knobs) Revoke(revoked bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.revoked = revoked
}

// Seen returns every request received so far.
func (k *Knobs) Seen() []Seen {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Seen(nil), k.seen...)
}

// Requests counts the requests received so far.
func (k *Knobs) Requests() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.seen)
}

// Creates counts the creates committed so far (meetings, tasks, contacts).
func (k *Knobs) Creates() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.creates
}

func (k *Knobs) clock() time.Time {
	if k.now != nil {
		return k.now()
	}
	return time.Now()
}

// visible reports whether a record created at t shows in searches.
func (k *Knobs) visible(t time.Time) bool {
	k.mu.Lock()
	lag := k.lag
	k.mu.Unlock()
	return !k.clock().Before(t.Add(lag))
}

// vendor is what a stand-in plugs into the shared machinery.
type vendor interface {
	// authorized checks the vendor's credentials on r.
	authorized(r *http.Request) bool
	// unauthorized writes the vendor's invalid-credentials answer.
	unauthorized(w http.ResponseWriter, r *http.Request)
	// fail writes the vendor's answer for a forced status (rate-limit
	// headers with a 429).
	fail(w http.ResponseWriter, status int)
	// route serves r; it calls create for requests that create records.
	route(w http.ResponseWriter, r *http.Request, body []byte)
}

// base is the shared machinery: an httptest server, the knobs, and one lock
// over the vendor's records (handlers run under it).
type base struct {
	k   Knobs
	srv *httptest.Server
	mu  sync.Mutex // the vendor's records
	v   vendor
}

func (b *base) start(v vendor) {
	b.v = v
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
}

// URL is the stand-in's base URL.
func (b *base) URL() string { return b.srv.URL }

// Close shuts the server down.
func (b *base) Close() { b.srv.Close() }

// Knobs returns the failure controls.
func (b *base) Knobs() *Knobs { return &b.k }

func (b *base) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	b.k.mu.Lock()
	b.k.seen = append(b.k.seen, Seen{Method: r.Method, URL: r.URL.String(), Header: r.Header.Clone(), Body: string(body)})
	revoked := b.k.revoked
	var f *failure
	if len(b.k.failures) > 0 {
		f = &b.k.failures[0]
		b.k.failures = b.k.failures[1:]
	}
	b.k.mu.Unlock()
	if revoked || !b.v.authorized(r) {
		b.v.unauthorized(w, r)
		return
	}
	if f != nil {
		b.v.fail(w, f.status)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	b.v.route(w, r, body)
}

// create runs commit (which stores the record and returns the answer) under
// the records lock, honouring the create knobs: a held create waits before
// committing; a cut one commits and then drops the connection.
func (b *base) create(w http.ResponseWriter, status int, commit func() any) {
	b.k.mu.Lock()
	var hold chan struct{}
	if b.k.hold != nil {
		select {
		case hold = <-b.k.hold:
		default:
		}
	}
	cut := b.k.cut > 0
	if cut {
		b.k.cut--
	}
	b.k.mu.Unlock()
	if hold != nil {
		<-hold
	}
	b.mu.Lock()
	answer := commit()
	b.mu.Unlock()
	b.k.mu.Lock()
	b.k.creates++
	b.k.mu.Unlock()
	if cut {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
	}
	writeJSON(w, status, answer)
}

// nextID returns prefix followed by a counter.
type ids struct{ n int }

func (i *ids) next(prefix string) string {
	i.n++
	return prefix + strconv.Itoa(i.n)
}

// lower is strings.ToLower(strings.TrimSpace(s)).
func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func (b *base) visible(t time.Time) bool { return b.k.visible(t) }
func (b *base) clock() time.Time         { return b.k.clock() }
