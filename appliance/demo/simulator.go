package demo

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/notekeeper/notekeeper/appliance/nylas/nylastest"
)

// Simulator is a stand-in for the Nylas API and Nylas' media storage.
//
// API (Authorization: Bearer APIKey required, answers {request_id, data}):
//
//	GET /v3/grants/{grant}/notetakers[?state=]      list (one page)
//	GET /v3/grants/{grant}/notetakers/{id}          a Notetaker
//	GET /v3/grants/{grant}/notetakers/{id}/media    fresh signed links to its media
//	GET /v3/notetakers/{id}[/media]                 standalone bots (none here: 404)
//	GET /v3/grants/{grant}/events/{id}?calendar_id= a calendar event with participants
//	GET /v3/webhooks, GET /v3/webhooks/{id}         the demo's webhook destination
//
// and, through Provisioning (a nylastest stand-in), what `nylas plan|apply`,
// `bot join|cancel|leave` and the follow-up e-mail use:
//
//	GET /v3/grants                                   the demo's grant
//	GET|PUT /v3/grants/{grant}/calendars/{id}        its calendar's Notetaker rules
//	/v3/grants/{grant}/scheduling/configurations…    Scheduler configurations
//	POST /v3/grants/{grant}/notetakers, …/cancel, …/leave   ad-hoc bots
//	POST /v3/grants/{grant}/messages/send            e-mails (kept, not sent)
//
// Storage (no API key; pre-signed):
//
//	GET /storage/{notetaker}/{name}?expires=&signature=
//
// serves a media file, with Range support, when the signature matches the
// path and expires (Unix seconds) has not passed; else 403.
//
// Set the fields before Open; the methods are safe for concurrent use after.
type Simulator struct {
	APIKey     string        // the bearer token the API requires
	WebhookURL string        // the destination the webhook endpoints report
	Start      time.Time     // the demo's "now": meetings joined 50 min before, media kept 14 days after
	LinkTTL    time.Duration // life of the links the media endpoint hands out; default 1h
	Now        func() time.Time
	// Provisioning answers the provisioning endpoints; it holds the demo's
	// grant and its primary calendar, without rules.
	Provisioning *nylastest.Server

	meetings []*Meeting
	media    map[string][]MediaFile // by Notetaker ID
	signer   urlSigner
	srv      server

	refused, served, refreshes atomic.Int64
}

// WebhookID is the ID of the simulator's one webhook destination.
const WebhookID = "wh-demo-0001"

// NewSimulator returns a simulator serving meetings, with a fresh random
// storage key. Start and Now default to time.Now.
func NewSimulator(apiKey string, meetings ...*Meeting) *Simulator {
	s := &Simulator{APIKey: apiKey, meetings: meetings, media: map[string][]MediaFile{},
		signer: urlSigner{key: []byte(rand.Text())}, Now: time.Now, Start: time.Now(), LinkTTL: time.Hour}
	for _, m := range meetings {
		s.media[m.NotetakerID] = m.Media()
	}
	s.Provisioning = nylastest.NewHandler(apiKey)
	grants := map[string]bool{}
	for _, m := range meetings {
		if !grants[m.GrantID] {
			grants[m.GrantID] = true
			s.Provisioning.AddGrant(m.GrantID, m.Organizer.Email, "google")
			s.Provisioning.AddCalendar(m.GrantID, m.Organizer.Email, true)
		}
	}
	return s
}

// Open listens on a free 127.0.0.1 port and serves.
func (s *Simulator) Open() error { return s.srv.open("nylas simulator", s.Handler()) }

// Close stops serving.
func (s *Simulator) Close() error { return s.srv.close() }

// URL is the simulator's base URL (the api_base), "" before Open.
func (s *Simulator) URL() string { return s.srv.url() }

// SimulatorStats counts what storage and the media endpoint did.
type SimulatorStats struct {
	Served    int64 // media files served (200 or 206)
	Refused   int64 // storage requests refused with 403 (expired or bad signature)
	Refreshes int64 // calls of the media endpoint (fresh links)
}

// Stats returns the counts so far.
func (s *Simulator) Stats() SimulatorStats {
	return SimulatorStats{Served: s.served.Load(), Refused: s.refused.Load(), Refreshes: s.refreshes.Load()}
}

// MediaURL returns a storage link to notetakerID's media file of kind,
// signed to expire at expires, on base (the simulator's URL). It returns ""
// when the meeting has no such file.
func (s *Simulator) MediaURL(base, notetakerID, kind string, expires time.Time) string {
	f, ok := s.file(notetakerID, func(f MediaFile) bool { return f.Kind == kind })
	if !ok {
		return ""
	}
	return s.signer.sign(base, "/storage/"+notetakerID+"/"+f.Name, expires)
}

// Handler is the simulator's routes (also usable with httptest).
func (s *Simulator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v3/grants/{grant}/notetakers", s.api(s.listNotetakers))
	mux.Handle("GET /v3/grants/{grant}/notetakers/{id}", s.api(s.getNotetaker))
	mux.Handle("GET /v3/grants/{grant}/notetakers/{id}/media", s.api(s.getMedia))
	mux.Handle("GET /v3/notetakers/{id}", s.api(s.getNotetaker))
	mux.Handle("GET /v3/notetakers/{id}/media", s.api(s.getMedia))
	mux.Handle("GET /v3/grants/{grant}/events/{id}", s.api(s.getEvent))
	mux.Handle("GET /v3/webhooks", s.api(s.listWebhooks))
	mux.Handle("GET /v3/webhooks/{id}", s.api(s.getWebhook))
	mux.HandleFunc("GET /storage/{id}/{name}", s.storage)
	prov := s.Provisioning.Handler()
	for _, p := range []string{"GET /v3/grants", "/v3/grants/{grant}/calendars/{id}", "/v3/grants/{grant}/scheduling/",
		"POST /v3/grants/{grant}/notetakers", "/v3/grants/{grant}/notetakers/{id}/cancel", "/v3/grants/{grant}/notetakers/{id}/leave",
		"POST /v3/grants/{grant}/messages/send"} {
		mux.Handle(p, prov)
	}
	return mux
}

// apiError is a Nylas error answer.
type apiError struct {
	status int
	typ    string
	msg    string
}

// api wraps an API handler: bearer check, then {request_id, data} or
// {request_id, error:{type, message}}.
func (s *Simulator) api(fn func(r *http.Request) (any, *apiError)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := "req-" + rand.Text()[:12]
		w.Header().Set("Content-Type", "application/json")
		auth := []byte(r.Header.Get("Authorization"))
		var data any
		e := &apiError{http.StatusUnauthorized, "unauthorized", "invalid API key"}
		if subtle.ConstantTimeCompare(auth, []byte("Bearer "+s.APIKey)) == 1 {
			data, e = fn(r)
		}
		if e != nil {
			w.WriteHeader(e.status)
			json.NewEncoder(w).Encode(object{"request_id": reqID, "error": object{"type": e.typ, "message": e.msg}})
			return
		}
		if page, ok := data.([]any); ok {
			json.NewEncoder(w).Encode(object{"request_id": reqID, "data": page, "next_cursor": ""})
			return
		}
		json.NewEncoder(w).Encode(object{"request_id": reqID, "data": data})
	})
}

func notFound(what string) *apiError {
	return &apiError{http.StatusNotFound, "not_found_error", what + " not found"}
}

// meeting finds the bot {id} of grant {grant} ("" for /v3/notetakers).
func (s *Simulator) meeting(r *http.Request) (*Meeting, *apiError) {
	id, grant := r.PathValue("id"), r.PathValue("grant")
	for _, m := range s.meetings {
		if m.NotetakerID == id && m.GrantID == grant {
			return m, nil
		}
	}
	return nil, notFound("notetaker " + id)
}

func (s *Simulator) listNotetakers(r *http.Request) (any, *apiError) {
	out := []any{}
	state := r.URL.Query().Get("state")
	for _, m := range s.meetings {
		if m.GrantID == r.PathValue("grant") && (state == "" || state == m.State) {
			out = append(out, s.notetakerObject(m))
		}
	}
	return out, nil
}

func (s *Simulator) getNotetaker(r *http.Request) (any, *apiError) {
	m, e := s.meeting(r)
	if e != nil {
		return nil, e
	}
	return s.notetakerObject(m), nil
}

// notetakerObject is m as the API returns it, shaped like the fixture's
// Notetaker object.
func (s *Simulator) notetakerObject(m *Meeting) object {
	o := at(fixture("notetaker-created.json"), "data", "object")
	o["id"], o["grant_id"], o["meeting_link"] = m.NotetakerID, m.GrantID, m.MeetingLink
	o["join_time"] = JoinTime(s.Start).Unix()
	o["calendar_id"] = m.CalendarID
	ev := at(o, "event")
	ev["event_id"], ev["ical_uid"], ev["master_event_id"] = m.EventID, m.ICalUID, m.EventID
	o["state"], o["status"] = m.State, m.State
	if m.MeetingState != "" {
		o["meeting_state"] = m.MeetingState
	}
	return o
}

// getMedia answers the media endpoint with links valid for LinkTTL, shaped
// like the fixture's answer.
func (s *Simulator) getMedia(r *http.Request) (any, *apiError) {
	m, e := s.meeting(r)
	if e != nil {
		return nil, e
	}
	s.refreshes.Add(1)
	tmpl := at(fixture("media-endpoint-response.json"), "data")
	base := s.URL()
	if base == "" { // served through Handler alone (tests)
		base = "http://" + r.Host
	}
	now := s.Now()
	out := object{}
	for _, f := range s.media[m.NotetakerID] {
		entry, ok := tmpl[f.Kind].(object)
		if !ok {
			continue
		}
		entry["created_at"] = s.Start.Unix()
		entry["expires_at"] = DeletesAt(s.Start).Unix()
		entry["name"], entry["size"], entry["type"] = f.Name, len(f.Data), f.ContentType
		entry["ttl"] = int64(s.LinkTTL / time.Second)
		entry["url"] = s.MediaURL(base, m.NotetakerID, f.Kind, now.Add(s.LinkTTL))
		if f.Kind == "recording" {
			entry["duration"] = RecordingSeconds
		}
		out[f.Kind] = entry
	}
	return out, nil
}

// getEvent answers a calendar event, shaped like the fixture's event.
func (s *Simulator) getEvent(r *http.Request) (any, *apiError) {
	if r.URL.Query().Get("calendar_id") == "" {
		return nil, &apiError{http.StatusBadRequest, "invalid_request_error", "calendar_id is required"}
	}
	for _, m := range s.meetings {
		if m.EventID != r.PathValue("id") || m.GrantID != r.PathValue("grant") {
			continue
		}
		o := at(fixture("event-response.json"), "data")
		o["id"], o["grant_id"], o["calendar_id"], o["title"] = m.EventID, m.GrantID, r.URL.Query().Get("calendar_id"), m.Title
		o["organizer"] = object{"email": m.Organizer.Email, "name": m.Organizer.Name}
		ps := []any{}
		for _, p := range m.Participants {
			ps = append(ps, object{"email": p.Email, "name": p.Name, "status": "yes"})
		}
		o["participants"] = ps
		o["notetaker"] = object{"id": m.NotetakerID}
		return o, nil
	}
	return nil, notFound("event " + r.PathValue("id"))
}

// webhook is the demo's destination.
func (s *Simulator) webhook() object {
	created := s.Start.Unix()
	return object{"id": WebhookID, "description": "notekeeper demo", "webhook_url": s.WebhookURL,
		"status": "active", "trigger_types": []string{"notetaker.media", "notetaker.meeting_state",
			"notetaker.created", "notetaker.updated", "notetaker.deleted", "booking.created",
			"booking.rescheduled", "booking.cancelled", "grant.expired", "grant.updated"},
		"notification_email_addresses": []string{}, "created_at": created, "updated_at": created,
		"status_updated_at": created}
}

func (s *Simulator) listWebhooks(*http.Request) (any, *apiError) { return []any{s.webhook()}, nil }

func (s *Simulator) getWebhook(r *http.Request) (any, *apiError) {
	if r.PathValue("id") != WebhookID {
		return nil, notFound("webhook " + r.PathValue("id"))
	}
	return s.webhook(), nil
}

// file finds the first media file of notetakerID matching ok.
func (s *Simulator) file(notetakerID string, ok func(MediaFile) bool) (MediaFile, bool) {
	i := slices.IndexFunc(s.media[notetakerID], ok)
	if i < 0 {
		return MediaFile{}, false
	}
	return s.media[notetakerID][i], true
}

// storage serves a media file behind a signed, expiring link.
func (s *Simulator) storage(w http.ResponseWriter, r *http.Request) {
	if !s.signer.valid(r.URL.Path, r.URL.Query(), s.Now()) {
		s.refused.Add(1)
		w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"+
			"<Message>Access denied.</Message><Details>The signature is invalid or the link has expired.</Details></Error>")
		return
	}
	f, ok := s.file(r.PathValue("id"), func(f MediaFile) bool { return f.Name == r.PathValue("name") })
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.served.Add(1)
	w.Header().Set("Content-Type", f.ContentType)
	http.ServeContent(w, r, f.Name, s.Start, bytes.NewReader(f.Data))
}

// JoinTime is when the demo's bots joined their meetings: 50 minutes before
// start, to the minute.
func JoinTime(start time.Time) time.Time { return start.Add(-50 * time.Minute).Truncate(time.Minute) }

// DeletesAt is when the simulated Nylas deletes the demo's media: 14 days
// after start.
func DeletesAt(start time.Time) time.Time {
	return start.Add(14 * 24 * time.Hour).Truncate(time.Second)
}
