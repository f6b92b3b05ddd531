package e2e

// Stand-ins for the Nylas API and Nylas' media storage, with faults.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// soakWorld is the set of meetings, looked up by Notetaker ID.
type soakWorld struct {
	mu       sync.Mutex
	meetings []*soakMeeting
	byID     map[string]*soakMeeting
}

func (w *soakWorld) add(m *soakMeeting) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.meetings = append(w.meetings, m)
	w.byID[m.ID] = m
}

func (w *soakWorld) get(id string) *soakMeeting {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.byID[id]
}

func (w *soakWorld) all() []*soakMeeting {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*soakMeeting(nil), w.meetings...)
}

// soakStorage serves media behind signed, expiring links, with faults:
// expired links (403), connections cut mid-file, a Content-Length larger
// than the body, slow reads and 5xx. A doomed meeting's media is gone (403).
type soakStorage struct {
	world  *soakWorld
	faults *soakFaults
	dice   *soakDice
	key    []byte
	srv    *httptest.Server
}

func newSoakStorage(world *soakWorld, faults *soakFaults, dice *soakDice) *soakStorage {
	s := &soakStorage{world: world, faults: faults, dice: dice, key: []byte(fmt.Sprint("storage-key-", dice.intn(1<<30)))}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *soakStorage) mac(path, exp string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(path + "\n" + exp))
	return hex.EncodeToString(m.Sum(nil))
}

// url is a signed link to one file, valid until exp.
func (s *soakStorage) url(id, name string, exp time.Time) string {
	path := "/storage/" + id + "/" + name
	e := strconv.FormatInt(exp.Unix(), 10)
	return s.srv.URL + path + "?" + url.Values{"expires": {e}, "signature": {s.mac(path, e)}}.Encode()
}

func forbidden(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprint(w, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code></Error>")
}

func (s *soakStorage) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		http.Error(w, "credentials sent to storage", http.StatusBadRequest)
		return
	}
	var id, name string
	if _, err := fmt.Sscanf(r.URL.Path, "/storage/%s", &id); err != nil {
		http.NotFound(w, r)
		return
	}
	id, name, _ = cutLast(id)
	m := s.world.get(id)
	exp := r.URL.Query().Get("expires")
	n, err := strconv.ParseInt(exp, 10, 64)
	if m == nil || err != nil || time.Now().Unix() > n || !hmac.Equal([]byte(r.URL.Query().Get("signature")), []byte(s.mac(r.URL.Path, exp))) {
		s.faults.add("storage.expired_link_refused") // the schedule's expired links, and the wrong ones
		forbidden(w)
		return
	}
	if m.Kind == kindDoomed {
		forbidden(w) // deleted by Nylas: no link works
		return
	}
	f, ok := m.file(name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if !s.faults.calm.Load() {
		switch p := s.dice.intn(1000); {
		case p < 40:
			s.faults.add("storage.expired")
			forbidden(w)
			return
		case p < 80:
			s.faults.serverError("storage", s.dice, w)
			return
		case p < 120:
			s.faults.add("storage.cut")
			w.Header().Set("Content-Type", f.Type)
			cw := &cutWriter{ResponseWriter: w, left: int64(len(f.Data)) / 2}
			http.ServeContent(cw, r, f.Name, time.Time{}, bytes.NewReader(f.Data))
			panic(http.ErrAbortHandler) // the connection dies mid-body
		case p < 150:
			s.faults.add("storage.wrong_length")
			w.Header().Set("Content-Type", f.Type)
			http.ServeContent(&liarWriter{ResponseWriter: w}, r, f.Name, time.Time{}, bytes.NewReader(f.Data))
			panic(http.ErrAbortHandler) // promised more than it sent
		case p < 200:
			s.faults.add("storage.slow")
			w.Header().Set("Content-Type", f.Type)
			http.ServeContent(w, r, f.Name, time.Time{}, &slowSoakReader{Reader: bytes.NewReader(f.Data)})
			return
		}
	}
	w.Header().Set("Content-Type", f.Type)
	http.ServeContent(w, r, f.Name, time.Time{}, bytes.NewReader(f.Data))
}

// cutLast splits "a/b" at its last slash.
func cutLast(s string) (string, string, bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// cutWriter stops writing (and flushes) after left bytes of body.
type cutWriter struct {
	http.ResponseWriter
	left int64
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("cut")
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.ResponseWriter.Write(p)
	c.left -= int64(n)
	if c.left <= 0 {
		c.ResponseWriter.(http.Flusher).Flush()
		return n, fmt.Errorf("cut")
	}
	return n, err
}

// liarWriter declares 4096 more bytes than the body has.
type liarWriter struct{ http.ResponseWriter }

func (l *liarWriter) WriteHeader(code int) {
	if n, err := strconv.ParseInt(l.Header().Get("Content-Length"), 10, 64); err == nil {
		l.Header().Set("Content-Length", strconv.FormatInt(n+4096, 10))
	}
	l.ResponseWriter.WriteHeader(code)
}

// slowSoakReader hands out 8 KiB per Read after 15 ms.
type slowSoakReader struct{ *bytes.Reader }

func (r *slowSoakReader) Read(p []byte) (int, error) {
	time.Sleep(15 * time.Millisecond)
	if len(p) > 8<<10 {
		p = p[:8<<10]
	}
	return r.Reader.Read(p)
}

// soakNylas is the Nylas API stand-in: the list of Notetakers (for
// reconciliation), the media endpoint (fresh links) and calendar events
// (CRM participants), with 429 + Retry-After, 5xx and timeouts.
type soakNylas struct {
	world   *soakWorld
	storage *soakStorage
	faults  *soakFaults
	dice    *soakDice
	apiKey  string
	srv     *httptest.Server

	refreshes atomic.Int64 // answers of the media endpoint
}

func newSoakNylas(world *soakWorld, storage *soakStorage, faults *soakFaults, dice *soakDice, apiKey string) *soakNylas {
	n := &soakNylas{world: world, storage: storage, faults: faults, dice: dice, apiKey: apiKey}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v3/grants/{grant}/notetakers", n.list)
	mux.HandleFunc("GET /v3/grants/{grant}/notetakers/{id}/media", n.media)
	mux.HandleFunc("GET /v3/grants/{grant}/events/{id}", n.event)
	n.srv = httptest.NewServer(n.faulty(mux))
	return n
}

func (n *soakNylas) faulty(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+n.apiKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if !n.faults.calm.Load() {
			switch p := n.dice.intn(1000); {
			case p < 40:
				n.faults.tooMany("nylas", w)
				return
			case p < 80:
				n.faults.serverError("nylas", n.dice, w)
				return
			case p < 83:
				if n.faults.hang("nylas", r) {
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func writeData(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"request_id": "req-soak", "data": v, "next_cursor": ""})
}

func apiNotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, `{"request_id":"req-soak","error":{"type":"not_found_error","message":"not found"}}`)
}

// list pages through the grant's Notetakers whose media is available (or,
// for the doomed ones, deleted); page_token is an offset.
func (n *soakNylas) list(w http.ResponseWriter, r *http.Request) {
	var items []map[string]any
	for _, m := range n.world.all() {
		state := ""
		switch {
		case m.Kind == kindDoomed:
			state = "media_deleted"
		case m.ready.Load():
			state = "media_available"
		default:
			continue
		}
		items = append(items, map[string]any{"id": m.ID, "grant_id": soakGrant, "object": "notetaker",
			"meeting_provider": "Google Meet", "meeting_link": "https://meet.google.com/soak-" + m.ID, "join_time": m.base,
			"event": map[string]any{"event_id": m.EventID, "ical_uid": m.EventID + "@google.com", "master_event_id": m.EventID},
			"state": state, "status": state})
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	from, _ := strconv.Atoi(r.URL.Query().Get("page_token"))
	from = min(max(from, 0), len(items))
	to := min(from+limit, len(items))
	next := ""
	if to < len(items) {
		next = strconv.Itoa(to)
	}
	w.Header().Set("Content-Type", "application/json")
	page := items[from:to]
	if page == nil {
		page = []map[string]any{}
	}
	json.NewEncoder(w).Encode(map[string]any{"request_id": "req-soak", "data": page, "next_cursor": next})
}

// media answers fresh links for a meeting whose media is ready, else 404.
func (n *soakNylas) media(w http.ResponseWriter, r *http.Request) {
	m := n.world.get(r.PathValue("id"))
	if m == nil || !m.ready.Load() || r.PathValue("grant") != soakGrant {
		apiNotFound(w)
		return
	}
	n.refreshes.Add(1)
	out := map[string]any{}
	for _, f := range m.Files {
		out[f.Kind] = map[string]any{"url": n.storage.url(m.ID, f.Name, time.Now().Add(time.Hour)), "name": f.Name,
			"type": f.Type, "size": len(f.Data), "created_at": m.base, "expires_at": m.DeletesAt.Unix(), "ttl": 3600}
	}
	writeData(w, out)
}

// event answers the calendar event of a meeting: one internal and one
// external participant.
func (n *soakNylas) event(w http.ResponseWriter, r *http.Request) {
	var m *soakMeeting
	for _, x := range n.world.all() {
		if x.EventID == r.PathValue("id") {
			m = x
		}
	}
	if m == nil {
		apiNotFound(w)
		return
	}
	writeData(w, map[string]any{"id": m.EventID, "title": "Sales call " + m.ID, "grant_id": soakGrant,
		"organizer": map[string]string{"email": "sales@soak.example", "name": "Sarah"},
		"participants": []map[string]string{{"email": "sales@soak.example", "name": "Sarah", "status": "yes"},
			{"email": m.Customer, "name": "Buyer " + m.ID, "status": "yes"}}})
}
