package atstest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Greenhouse is a stand-in for Greenhouse Harvest v3 (base path /v3) and its
// OAuth token endpoint (POST /token: HTTP Basic client ID and secret,
// grant_type=client_credentials, sub = a user ID). API calls demand a live
// bearer token; list answers are JSON arrays; errors are {"message"} or the
// 422 {"message":"Validation error","errors":[{"message","field"}]}; every
// answer carries X-RateLimit-* headers. Like the real API it accepts notes
// for a candidate_id it does not know (orphans) and demands note_type "NOTE".
type Greenhouse struct {
	*httptest.Server
	Faults
	ClientID, ClientSecret string
	// WriteNames is the interview body the stand-in accepts: "v3"
	// (starts_at/ends_at, job_interview_id) or "v2" (start/end,
	// interview_id); the connector must cope with either.
	WriteNames string
	TokenTTL   time.Duration // default 1 h
	// NoInterviewWrites answers interview writes 404, as a v3 without them.
	NoInterviewWrites bool

	mu      sync.Mutex
	tokens  map[string]time.Time
	fetches int
	cands   []json.RawMessage
	apps    []json.RawMessage
	users   []json.RawMessage
	jobIvs  []json.RawMessage
	ivs     map[string]*Record
	ivOrder []string
	notes   map[string]*Record
	nOrder  []string
	seq     int
}

// NewGreenhouse starts a Greenhouse stand-in seeded with
// testdata/greenhouse-*.json.
func NewGreenhouse(clientID, clientSecret string) *Greenhouse {
	g := &Greenhouse{ClientID: clientID, ClientSecret: clientSecret, WriteNames: "v3", tokens: map[string]time.Time{},
		ivs: map[string]*Record{}, notes: map[string]*Record{}, seq: 9100000}
	json.Unmarshal(Sample("greenhouse-candidates.json"), &g.cands)
	json.Unmarshal(Sample("greenhouse-applications.json"), &g.apps)
	json.Unmarshal(Sample("greenhouse-users.json"), &g.users)
	json.Unmarshal(Sample("greenhouse-job-interviews.json"), &g.jobIvs)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", g.token)
	api := http.NewServeMux()
	api.HandleFunc("GET /v3/users", g.list(func() []json.RawMessage { return g.users }, "ids"))
	api.HandleFunc("GET /v3/candidates", g.listCandidates)
	api.HandleFunc("GET /v3/applications", g.listApplications)
	api.HandleFunc("GET /v3/job_interviews", g.list(func() []json.RawMessage { return g.jobIvs }, "job_ids"))
	api.HandleFunc("GET /v3/interviews", g.listInterviews)
	api.HandleFunc("POST /v3/interviews", g.createInterview)
	api.HandleFunc("PATCH /v3/interviews/{id}", g.updateInterview)
	api.HandleFunc("DELETE /v3/interviews/{id}", g.deleteInterview)
	api.HandleFunc("GET /v3/notes", g.listNotes)
	api.HandleFunc("POST /v3/notes", g.createNote)
	mux.Handle("/v3/", g.bearer(api))
	g.Server = httptest.NewServer(g.wrap(g.rateHeaders(mux)))
	return g
}

// TokenURL is the stand-in's token endpoint.
func (g *Greenhouse) TokenURL() string { return g.URL + "/token" }

// TokenFetches counts tokens issued.
func (g *Greenhouse) TokenFetches() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.fetches
}

// RevokeTokens makes every issued token invalid (a rotated secret).
func (g *Greenhouse) RevokeTokens() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tokens = map[string]time.Time{}
}

// SetInterviewStatus sets an interview's status (e.g. "complete", as after
// the meeting took place in Greenhouse).
func (g *Greenhouse) SetInterviewStatus(id, status string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r := g.ivs[id]; r != nil {
		r.Status = status
	}
}

func ghError(w http.ResponseWriter, status int, msg string, fields ...string) {
	body := map[string]any{"message": msg}
	if len(fields) > 0 {
		var errs []map[string]string
		for _, f := range fields {
			errs = append(errs, map[string]string{"field": f, "message": "Invalid params: " + f})
		}
		body["errors"] = errs
	}
	writeJSON(w, status, body)
}

func (g *Greenhouse) rateHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "75")
		w.Header().Set("X-RateLimit-Remaining", "74")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(30*time.Second).Unix(), 10))
		h.ServeHTTP(w, r)
	})
}

func (g *Greenhouse) userKnown(id string) bool {
	return slices.ContainsFunc(g.users, func(u json.RawMessage) bool { return fieldString(u, "id") == id })
}

func (g *Greenhouse) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != g.ClientID || secret != g.ClientSecret {
		writeJSON(w, 401, map[string]string{"error": "invalid_client", "error_description": "Client authentication failed"})
		return
	}
	r.ParseForm()
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, 400, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	if sub := r.PostForm.Get("sub"); sub != "" && !g.userKnown(sub) {
		writeJSON(w, 400, map[string]string{"error": "invalid_request", "error_description": "sub is not a user"})
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	ttl := g.TokenTTL
	if ttl == 0 {
		ttl = time.Hour
	}
	g.mu.Lock()
	g.tokens[tok] = time.Now().Add(ttl)
	g.fetches++
	g.mu.Unlock()
	writeJSON(w, 200, map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": int(ttl / time.Second)})
}

func (g *Greenhouse) bearer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		g.mu.Lock()
		exp, known := g.tokens[tok]
		g.mu.Unlock()
		if !ok || !known || time.Now().After(exp) {
			ghError(w, 401, "Unauthorized")
			return
		}
		if r.Method == "GET" && r.ContentLength > 0 {
			ghError(w, 403, "A body was sent on a GET")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func fieldString(raw json.RawMessage, k string) string {
	var m map[string]json.RawMessage
	json.Unmarshal(raw, &m)
	var s string
	if json.Unmarshal(m[k], &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(m[k], &n) == nil {
		return n.String()
	}
	return ""
}

func idsParam(r *http.Request, k string) ([]string, bool) {
	v := r.URL.Query().Get(k)
	if v == "" {
		return nil, false
	}
	return strings.Split(v, ","), true
}

func (g *Greenhouse) list(items func() []json.RawMessage, filter string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		want, filtered := idsParam(r, filter)
		key := strings.TrimSuffix(filter, "s")
		if filter == "ids" {
			key = "id"
		}
		out := []json.RawMessage{}
		g.mu.Lock()
		for _, it := range items() {
			if !filtered || slices.Contains(want, fieldString(it, key)) {
				out = append(out, it)
			}
		}
		g.mu.Unlock()
		writeJSON(w, 200, out)
	}
}

func (g *Greenhouse) listCandidates(w http.ResponseWriter, r *http.Request) {
	email := r.URL.Query().Get("email")
	out := []json.RawMessage{}
	for _, c := range g.cands {
		var v struct {
			EmailAddresses []struct{ Value string } `json:"email_addresses"`
		}
		json.Unmarshal(c, &v)
		if email == "" || slices.ContainsFunc(v.EmailAddresses, func(e struct{ Value string }) bool { return strings.EqualFold(e.Value, email) }) {
			out = append(out, c)
		}
	}
	writeJSON(w, 200, out)
}

func (g *Greenhouse) listApplications(w http.ResponseWriter, r *http.Request) {
	cids, byCand := idsParam(r, "candidate_ids")
	ids, byID := idsParam(r, "ids")
	out := []json.RawMessage{}
	for _, a := range g.apps {
		if (!byCand || slices.Contains(cids, fieldString(a, "candidate_id"))) && (!byID || slices.Contains(ids, fieldString(a, "id"))) {
			out = append(out, a)
		}
	}
	writeJSON(w, 200, out)
}

func (g *Greenhouse) interviewJSON(r *Record) map[string]any {
	return map[string]any{"id": json.Number(r.ID), "application_id": json.Number(r.ApplicationID), "job_interview_id": 7001,
		"starts_at": r.Start.Format(time.RFC3339), "ends_at": r.End.Format(time.RFC3339), "status": r.Status,
		"external_event_id": r.Key, "organizer_id": 4081, "scheduled_at": r.Created.UTC().Format(time.RFC3339),
		"video_conferencing_url": nil, "location": nil}
}

func (g *Greenhouse) listInterviews(w http.ResponseWriter, r *http.Request) {
	ext := r.URL.Query().Get("external_event_id")
	ids, byID := idsParam(r, "ids")
	apps, byApp := idsParam(r, "application_ids")
	g.mu.Lock()
	defer g.mu.Unlock()
	out := []any{}
	for _, id := range g.ivOrder {
		rec := g.ivs[id]
		if rec.Status == "deleted" || !g.visible(rec.Created) || (ext != "" && rec.Key != ext) ||
			(byID && !slices.Contains(ids, id)) || (byApp && !slices.Contains(apps, rec.ApplicationID)) {
			continue
		}
		out = append(out, g.interviewJSON(rec))
	}
	writeJSON(w, 200, out)
}

// times reads the interview times in the naming WriteNames selects and
// reports the names it refuses.
func (g *Greenhouse) times(in map[string]any) (start, end time.Time, bad []string) {
	startK, endK, otherS, otherE := "starts_at", "ends_at", "start", "end"
	if g.WriteNames == "v2" {
		startK, endK, otherS, otherE = otherS, otherE, startK, endK
	}
	for _, k := range []string{otherS, otherE} {
		if _, ok := in[k]; ok {
			bad = append(bad, k)
		}
	}
	if g.WriteNames == "v2" {
		if _, ok := in["job_interview_id"]; ok {
			bad = append(bad, "job_interview_id")
		}
	} else if _, ok := in["interview_id"]; ok {
		bad = append(bad, "interview_id")
	}
	s, _ := in[startK].(string)
	e, _ := in[endK].(string)
	start, _ = time.Parse(time.RFC3339, s)
	end, _ = time.Parse(time.RFC3339, e)
	return start.UTC(), end.UTC(), bad
}

func (g *Greenhouse) createInterview(w http.ResponseWriter, r *http.Request) {
	if g.NoInterviewWrites {
		ghError(w, 404, "Not Found")
		return
	}
	var in map[string]any
	if err := decodeNumbers(r, &in); err != nil {
		ghError(w, 400, "Malformed JSON")
		return
	}
	start, end, bad := g.times(in)
	if len(bad) > 0 {
		ghError(w, 422, "Validation error", bad...)
		return
	}
	ext, _ := in["external_event_id"].(string)
	app := fmt.Sprint(in["application_id"])
	who, _ := in["interviewers"].([]any)
	switch {
	case ext == "":
		ghError(w, 422, "Validation error", "external_event_id")
		return
	case start.IsZero() || !end.After(start):
		ghError(w, 422, "Validation error", "starts_at")
		return
	case len(who) == 0:
		ghError(w, 422, "Validation error", "interviewers")
		return
	case !slices.ContainsFunc(g.apps, func(a json.RawMessage) bool { return fieldString(a, "id") == app }):
		ghError(w, 404, "Application not found")
		return
	}
	g.create(w, 201, func() any {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.seq++
		id := strconv.Itoa(g.seq)
		rec := &Record{ID: id, ApplicationID: app, Start: start, End: end, Status: "scheduled", Key: ext, Created: time.Now()}
		for _, p := range who {
			m, _ := p.(map[string]any)
			rec.Interviewers = append(rec.Interviewers, fmt.Sprint(m["email"], m["user_id"]))
		}
		g.ivs[id] = rec
		g.ivOrder = append(g.ivOrder, id)
		return g.interviewJSON(rec)
	})
}

func (g *Greenhouse) actionable(w http.ResponseWriter, id string) *Record {
	rec := g.ivs[id]
	switch {
	case rec == nil || rec.Status == "deleted":
		ghError(w, 404, "Interview not found")
	case rec.Status != "scheduled" && rec.Status != "awaiting_feedback":
		ghError(w, 422, "Only scheduled or awaiting_feedback interviews can be changed")
	default:
		return rec
	}
	return nil
}

func (g *Greenhouse) updateInterview(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	decodeNumbers(r, &in)
	start, end, bad := g.times(in)
	if len(bad) > 0 {
		ghError(w, 422, "Validation error", bad...)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	rec := g.actionable(w, r.PathValue("id"))
	if rec == nil {
		return
	}
	if !start.IsZero() {
		rec.Start = start
	}
	if !end.IsZero() {
		rec.End = end
	}
	writeJSON(w, 200, g.interviewJSON(rec))
}

func (g *Greenhouse) deleteInterview(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if rec := g.actionable(w, r.PathValue("id")); rec != nil {
		rec.Status = "deleted"
		writeJSON(w, 200, map[string]string{"message": "Interview " + rec.ID + " has been deleted."})
	}
}

func (g *Greenhouse) listNotes(w http.ResponseWriter, r *http.Request) {
	cids, byCand := idsParam(r, "candidate_ids")
	users, byUser := idsParam(r, "user_ids")
	typ := r.URL.Query().Get("type")
	g.mu.Lock()
	defer g.mu.Unlock()
	out := []any{}
	for _, id := range g.nOrder {
		n := g.notes[id]
		if (byCand && !slices.Contains(cids, n.CandidateID)) || (byUser && !slices.Contains(users, n.Interviewers[0])) ||
			(typ != "" && typ != "NOTE") || !g.visible(n.Created) {
			continue
		}
		out = append(out, map[string]any{"id": json.Number(id), "candidate_id": json.Number(n.CandidateID), "application_id": n.ApplicationID,
			"body": n.Text, "subject": nil, "type": "NOTE", "user_id": json.Number(n.Interviewers[0]), "visibility": "privately_visible"})
	}
	writeJSON(w, 200, out)
}

func (g *Greenhouse) createNote(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := decodeNumbers(r, &in); err != nil {
		ghError(w, 400, "Malformed JSON")
		return
	}
	body, _ := in["body"].(string)
	vis, _ := in["visibility"].(string)
	switch {
	case in["note_type"] != "NOTE":
		writeJSON(w, 422, map[string]any{"message": "Validation error", "errors": []map[string]string{{"field": "note_type", "message": "must be one of note, activity"}}})
		return
	case vis != "admin_only" && vis != "private" && vis != "public":
		ghError(w, 422, "Validation error", "visibility")
		return
	case body == "" || in["candidate_id"] == nil:
		ghError(w, 422, "Validation error", "body")
		return
	}
	g.create(w, 201, func() any {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.seq++
		id := strconv.Itoa(g.seq)
		g.notes[id] = &Record{ID: id, CandidateID: fmt.Sprint(in["candidate_id"]), ApplicationID: fmt.Sprint(in["application_id"]),
			Text: body, Interviewers: []string{fmt.Sprint(in["user_id"])}, Created: time.Now()}
		g.nOrder = append(g.nOrder, id)
		return map[string]any{"id": json.Number(id), "body": body, "visibility": map[string]string{"private": "privately_visible", "public": "publicly_visible", "admin_only": "admin_only_visible"}[vis]}
	})
}

// Interviews returns every interview written, deleted ones with status
// "deleted".
func (g *Greenhouse) Interviews() []Record {
	g.mu.Lock()
	defer g.mu.Unlock()
	return copyRecords(g.ivs, g.ivOrder)
}

// Notes returns every note written.
func (g *Greenhouse) Notes() []Record {
	g.mu.Lock()
	defer g.mu.Unlock()
	return copyRecords(g.notes, g.nOrder)
}

// decodeNumbers decodes the body keeping numbers as json.Number (IDs).
func decodeNumbers(r *http.Request, v any) error {
	d := json.NewDecoder(r.Body)
	d.UseNumber()
	return d.Decode(v)
}
