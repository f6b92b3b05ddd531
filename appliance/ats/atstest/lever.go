package atstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"
)

// Lever is a stand-in for the Lever API (base path /v1): opportunities by
// e-mail, panels with interviews, notes and files on an opportunity, users.
// It demands Basic auth with Key as the user name, perform_as on writes,
// answers a non-address e-mail filter with 400 "Email address is not valid",
// and errors as {"code","message"}.
type Lever struct {
	*httptest.Server
	Faults
	Key string

	mu      sync.Mutex
	opps    []json.RawMessage // testdata/lever-opportunities.json "data"
	users   []leverUser
	ivs     map[string]*Record
	ivOrder []string
	panels  map[string][]string // panel ID → interview IDs
	notes   map[string]*Record
	nOrder  []string
	files   map[string][]leverFile // opportunity → files
	seq     int
}

type leverUser struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type leverFile struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Size int    `json:"size"`
}

// NewLever starts a Lever stand-in seeded with testdata/lever-*.json.
func NewLever(key string) *Lever {
	l := &Lever{Key: key, ivs: map[string]*Record{}, panels: map[string][]string{}, notes: map[string]*Record{},
		files: map[string][]leverFile{}}
	var opps struct{ Data []json.RawMessage }
	json.Unmarshal(Sample("lever-opportunities.json"), &opps)
	l.opps = opps.Data
	var users struct{ Data []leverUser }
	json.Unmarshal(Sample("lever-users.json"), &users)
	l.users = users.Data
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/opportunities", l.listOpportunities)
	mux.HandleFunc("GET /v1/users", l.listUsers)
	mux.HandleFunc("GET /v1/users/{id}", l.getUser)
	mux.HandleFunc("GET /v1/opportunities/{opp}/panels", l.listPanels)
	mux.HandleFunc("POST /v1/opportunities/{opp}/panels", l.createPanel)
	mux.HandleFunc("PUT /v1/opportunities/{opp}/interviews/{id}", l.updateInterview)
	mux.HandleFunc("DELETE /v1/opportunities/{opp}/interviews/{id}", l.deleteInterview)
	mux.HandleFunc("GET /v1/opportunities/{opp}/notes", l.listNotes)
	mux.HandleFunc("POST /v1/opportunities/{opp}/notes", l.createNote)
	mux.HandleFunc("GET /v1/opportunities/{opp}/files", l.listFiles)
	mux.HandleFunc("POST /v1/opportunities/{opp}/files", l.createFile)
	l.Server = httptest.NewServer(l.wrap(l.auth(mux)))
	return l
}

func leverError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"code": code, "message": msg})
}

func (l *Lever) auth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != l.Key || p != "" {
			leverError(w, 401, "UnauthorizedError", "Invalid API key")
			return
		}
		if r.Method != "GET" && !slices.ContainsFunc(l.users, func(u leverUser) bool { return u.ID == r.URL.Query().Get("perform_as") }) {
			leverError(w, 400, "BadRequestError", "perform_as must be a valid user id")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (l *Lever) oppKnown(w http.ResponseWriter, id string) bool {
	for _, o := range l.opps {
		var v struct{ ID string }
		json.Unmarshal(o, &v)
		if v.ID == id {
			return true
		}
	}
	leverError(w, 404, "ResourceNotFound", "opportunity not found")
	return false
}

func (l *Lever) id(prefix string) string {
	l.seq++
	return fmt.Sprintf("%s-%04d-4000-8000-%012d", prefix, l.seq, l.seq)
}

// createOn commits a create on the path's opportunity (404 when unknown);
// commit runs under the stand-in's lock.
func (l *Lever) createOn(w http.ResponseWriter, r *http.Request, commit func() any) {
	l.mu.Lock()
	known := l.oppKnown(w, r.PathValue("opp"))
	l.mu.Unlock()
	if known {
		l.create(w, 201, func() any {
			l.mu.Lock()
			defer l.mu.Unlock()
			return commit()
		})
	}
}

func (l *Lever) listOpportunities(w http.ResponseWriter, r *http.Request) {
	email := r.URL.Query().Get("email")
	if a, err := mail.ParseAddress(email); email != "" && (err != nil || a.Address != email) {
		leverError(w, 400, "BadRequestError", "Email address is not valid")
		return
	}
	archivedFalse := r.URL.Query().Get("archived") == "false"
	expand := r.URL.Query()["expand"]
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []any{}
	for _, raw := range l.opps {
		var o map[string]any
		json.Unmarshal(raw, &o)
		emails, _ := o["emails"].([]any)
		if email != "" && !slices.ContainsFunc(emails, func(e any) bool { return strings.EqualFold(fmt.Sprint(e), email) }) {
			continue
		}
		if archivedFalse && o["archived"] != nil {
			continue
		}
		if slices.Contains(expand, "contact") {
			o["contact"] = map[string]any{"id": o["contact"], "name": o["name"], "emails": o["emails"]}
		}
		out = append(out, o)
	}
	writeJSON(w, 200, map[string]any{"data": out, "hasNext": false})
}

func (l *Lever) listUsers(w http.ResponseWriter, r *http.Request) {
	email := r.URL.Query().Get("email")
	out := []leverUser{}
	for _, u := range l.users {
		if email == "" || strings.EqualFold(u.Email, email) {
			out = append(out, u)
		}
	}
	writeJSON(w, 200, map[string]any{"data": out, "hasNext": false})
}

func (l *Lever) getUser(w http.ResponseWriter, r *http.Request) {
	for _, u := range l.users {
		if u.ID == r.PathValue("id") {
			writeJSON(w, 200, map[string]any{"data": u})
			return
		}
	}
	leverError(w, 404, "ResourceNotFound", "user not found")
}

type leverInterview struct {
	ID           string           `json:"id,omitempty"`
	Panel        string           `json:"panel,omitempty"`
	Subject      string           `json:"subject"`
	Note         string           `json:"note"`
	Interviewers []map[string]any `json:"interviewers"`
	Date         int64            `json:"date"`
	Duration     int              `json:"duration"`
}

func (l *Lever) interviewJSON(id string) leverInterview {
	r := l.ivs[id]
	subject, note, _ := strings.Cut(r.Text, "\n")
	iv := leverInterview{ID: id, Panel: r.Key, Subject: subject, Note: note, Date: r.Start.UnixMilli(),
		Duration: int(r.End.Sub(r.Start) / time.Minute)}
	for _, who := range r.Interviewers {
		iv.Interviewers = append(iv.Interviewers, map[string]any{"id": who})
	}
	return iv
}

func (l *Lever) listPanels(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.oppKnown(w, r.PathValue("opp")) {
		return
	}
	out := []any{}
	for pid, ids := range l.panels {
		var ivs []leverInterview
		opp := ""
		for _, id := range ids {
			if rec := l.ivs[id]; rec.Status != "deleted" && l.visible(rec.Created) {
				ivs = append(ivs, l.interviewJSON(id))
				opp = rec.ApplicationID
			}
		}
		if opp == r.PathValue("opp") && len(ivs) > 0 {
			out = append(out, map[string]any{"id": pid, "externallyManaged": true, "interviews": ivs})
		}
	}
	writeJSON(w, 200, map[string]any{"data": out, "hasNext": false})
}

func (l *Lever) createPanel(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Timezone          string           `json:"timezone"`
		ExternallyManaged bool             `json:"externallyManaged"`
		Interviews        []leverInterview `json:"interviews"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Interviews) == 0 {
		leverError(w, 400, "BadRequestError", "interviews are required")
		return
	}
	for _, iv := range in.Interviews {
		if iv.Date == 0 || iv.Duration <= 0 || len(iv.Interviewers) == 0 {
			leverError(w, 400, "BadRequestError", "date, duration and interviewers are required")
			return
		}
	}
	l.createOn(w, r, func() any {
		pid := l.id("panel")
		var out []leverInterview
		for _, iv := range in.Interviews {
			id := l.id("iv")
			rec := &Record{ID: id, ApplicationID: r.PathValue("opp"), Key: pid, Status: "scheduled",
				Start: time.UnixMilli(iv.Date).UTC(), Text: iv.Subject + "\n" + iv.Note, Created: time.Now()}
			rec.End = rec.Start.Add(time.Duration(iv.Duration) * time.Minute)
			for _, who := range iv.Interviewers {
				rec.Interviewers = append(rec.Interviewers, fmt.Sprint(who["id"]))
			}
			l.ivs[id] = rec
			l.ivOrder = append(l.ivOrder, id)
			l.panels[pid] = append(l.panels[pid], id)
			out = append(out, l.interviewJSON(id))
		}
		return map[string]any{"data": map[string]any{"id": pid, "timezone": in.Timezone, "externallyManaged": in.ExternallyManaged, "interviews": out}}
	})
}

func (l *Lever) interview(w http.ResponseWriter, r *http.Request) *Record {
	rec := l.ivs[r.PathValue("id")]
	if rec == nil || rec.Status == "deleted" || rec.ApplicationID != r.PathValue("opp") {
		leverError(w, 404, "ResourceNotFound", "interview not found")
		return nil
	}
	return rec
}

func (l *Lever) updateInterview(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Date     int64 `json:"date"`
		Duration int   `json:"duration"`
	}
	json.NewDecoder(r.Body).Decode(&in)
	l.mu.Lock()
	defer l.mu.Unlock()
	rec := l.interview(w, r)
	if rec == nil {
		return
	}
	if in.Date != 0 {
		d := rec.End.Sub(rec.Start)
		rec.Start = time.UnixMilli(in.Date).UTC()
		rec.End = rec.Start.Add(d)
	}
	if in.Duration > 0 {
		rec.End = rec.Start.Add(time.Duration(in.Duration) * time.Minute)
	}
	writeJSON(w, 200, map[string]any{"data": l.interviewJSON(rec.ID)})
}

func (l *Lever) deleteInterview(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rec := l.interview(w, r); rec != nil {
		rec.Status = "deleted"
		w.WriteHeader(204)
	}
}

func (l *Lever) listNotes(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.oppKnown(w, r.PathValue("opp")) {
		return
	}
	out := []any{}
	for _, id := range l.nOrder {
		if n := l.notes[id]; n.ApplicationID == r.PathValue("opp") && l.visible(n.Created) {
			out = append(out, map[string]any{"id": id, "text": n.Text, "fields": []any{map[string]any{"type": "note", "value": n.Text}},
				"secret": true, "createdAt": n.Created.UnixMilli()})
		}
	}
	writeJSON(w, 200, map[string]any{"data": out, "hasNext": false})
}

func (l *Lever) createNote(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Value  string `json:"value"`
		Secret bool   `json:"secret"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Value == "" {
		leverError(w, 400, "BadRequestError", "value is required")
		return
	}
	l.createOn(w, r, func() any {
		id := l.id("note")
		l.notes[id] = &Record{ID: id, ApplicationID: r.PathValue("opp"), Text: in.Value, Created: time.Now()}
		l.nOrder = append(l.nOrder, id)
		return map[string]any{"data": map[string]any{"id": id, "text": in.Value, "secret": in.Secret}}
	})
}

func (l *Lever) listFiles(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []leverFile{}
	out = append(out, l.files[r.PathValue("opp")]...)
	writeJSON(w, 200, map[string]any{"data": out, "hasNext": false})
}

func (l *Lever) createFile(w http.ResponseWriter, r *http.Request) {
	f, hdr, err := r.FormFile("file")
	if err != nil {
		leverError(w, 400, "BadRequestError", "file is required")
		return
	}
	data, _ := io.ReadAll(f)
	if len(data) > 30<<20 {
		leverError(w, 413, "BadRequestError", "file too large")
		return
	}
	l.create(w, 201, func() any {
		l.mu.Lock()
		defer l.mu.Unlock()
		lf := leverFile{ID: l.id("file"), Name: hdr.Filename, Size: len(data)}
		l.files[r.PathValue("opp")] = append(l.files[r.PathValue("opp")], lf)
		return map[string]any{"data": lf}
	})
}

// Interviews returns every interview written, deleted ones with status
// "deleted".
func (l *Lever) Interviews() []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return copyRecords(l.ivs, l.ivOrder)
}

// Notes returns every note written.
func (l *Lever) Notes() []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return copyRecords(l.notes, l.nOrder)
}

// Files returns the names of the files on opportunity opp.
func (l *Lever) Files(opp string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, f := range l.files[opp] {
		out = append(out, f.Name)
	}
	return out
}
