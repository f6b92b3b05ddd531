// Package greenhouse is the ATS connector for Greenhouse Harvest v3 (v1/v2
// were retired on 2026-08-31): OAuth 2.0 client credentials with sub = the
// acting user, bearer tokens cached until shortly before they expire and
// refreshed once on a 401.
//
// The candidate is found by exact e-mail (GET /v3/candidates?email=), their
// active application through GET /v3/applications?candidate_ids= (the most
// recent activity when several). The interview is recorded with POST
// /v3/interviews, external_event_id = the booking's calendar event ID (the
// marker GET /v3/interviews?external_event_id= finds it by); it is moved
// (PATCH) or removed (DELETE) only while Greenhouse still has it scheduled —
// otherwise, and where v3 refuses interview writes altogether, the delivery
// writes a note instead (ErrNotSupported). Notes cannot be edited or deleted
// in v3, so each is written once with its final content.
//
// The v3 write reference was not available when this was written: the
// interview body is sent with the v3 read names (starts_at, ends_at,
// job_interview_id) and, when Greenhouse answers 422 naming them, once more
// with the v2 names (start, end, interview_id); the connector remembers which
// worked. An answer's id is read as a number or a string.
package greenhouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/ats/internal/vendorhttp"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

// Defaults of [ats] base_url and [ats.greenhouse] token_url.
const (
	DefaultBaseURL  = "https://harvest.greenhouse.io/v3"
	DefaultTokenURL = "https://auth.greenhouse.io/token"
)

// ATS is the Greenhouse connector; safe for concurrent use once its fields
// are set.
type ATS struct {
	BaseURL      string // default DefaultBaseURL
	TokenURL     string // default DefaultTokenURL
	ClientID     string
	ClientSecret string
	UserID       string // the token's sub: note author and interview organizer; a Site Admin (v3 lists need one)
	// JobInterviewID, when set, is the interview plan slot every interview
	// is recorded on; else the first of the application's job.
	JobInterviewID string
	Visibility     string // note visibility: private (default) | admin_only | public
	Transport      http.RoundTripper
	Lag            time.Duration // SearchLag; default 30 s

	once  sync.Once
	api   *outbound.Client
	token *outbound.Token
	mu    sync.Mutex
	names string // "v3" or "v2" once a write told which interview names work
}

var _ connector.ATS = (*ATS)(nil)

func (a *ATS) Name() string { return "greenhouse" }

func (a *ATS) SearchLag() time.Duration { return vendorhttp.Lag(a.Lag, 30*time.Second) }

func (a *ATS) client() *outbound.Client {
	a.once.Do(func() {
		base, tok := a.BaseURL, a.TokenURL
		if base == "" {
			base = DefaultBaseURL
		}
		if tok == "" {
			tok = DefaultTokenURL
		}
		// Greenhouse's 429 says when its window resets in X-RateLimit-Reset,
		// which outbound.RetryAfter reads.
		a.token = &outbound.Token{URL: tok, ClientID: a.ClientID, ClientSecret: a.ClientSecret, Subject: a.UserID,
			Next: a.Transport}
		a.api = vendorhttp.NewClient(strings.TrimRight(base, "/"), nil, a.token)
	})
	return a.api
}

// TokenFetches counts the tokens fetched (tests).
func (a *ATS) TokenFetches() int { a.client(); return a.token.Fetches() }

// get GETs a list endpoint into out.
func (a *ATS) get(ctx context.Context, path string, out any) error {
	var raw json.RawMessage
	if err := a.client().Call(ctx, "GET", path, "", nil, &raw); err != nil {
		return err
	}
	if err := vendorhttp.List(raw, out); err != nil {
		return fmt.Errorf("GET %s: %w", strings.SplitN(path, "?", 2)[0], err) // an async {message}: retry
	}
	return nil
}

type application struct {
	ID           json.Number `json:"id"`
	CandidateID  json.Number `json:"candidate_id"`
	JobID        json.Number `json:"job_id"`
	Status       string      `json:"status"`
	Prospect     bool        `json:"prospect"`
	LastActivity time.Time   `json:"last_activity_at"`
}

func (app application) active() bool {
	return !app.Prospect && (app.Status == "in_process" || app.Status == "active")
}

// FindCandidate returns the candidate with this address whose active
// application had the latest activity.
func (a *ATS) FindCandidate(ctx context.Context, email string) (connector.Candidate, error) {
	var cs []struct {
		ID        json.Number `json:"id"`
		FirstName string      `json:"first_name"`
		LastName  string      `json:"last_name"`
	}
	if err := a.get(ctx, "/candidates?email="+url.QueryEscape(email), &cs); err != nil {
		return connector.Candidate{}, err
	}
	if len(cs) == 0 {
		return connector.Candidate{}, connector.ErrNoCandidate
	}
	names := map[string]string{}
	var ids []string
	for _, c := range cs[:min(len(cs), 50)] { // filter arrays take at most 50 IDs
		ids = append(ids, c.ID.String())
		names[c.ID.String()] = strings.TrimSpace(c.FirstName + " " + c.LastName)
	}
	var apps []application
	if err := a.get(ctx, "/applications?per_page=500&candidate_ids="+strings.Join(ids, ","), &apps); err != nil {
		return connector.Candidate{}, err
	}
	var best *application
	for i := range apps {
		if app := &apps[i]; app.active() && (best == nil || app.LastActivity.After(best.LastActivity)) {
			best = app
		}
	}
	if best == nil {
		return connector.Candidate{}, connector.ErrNoCandidate
	}
	id := best.CandidateID.String()
	return connector.Candidate{ID: id, ApplicationID: best.ID.String(), Name: names[id], Email: email}, nil
}

// externalID is the interview's external_event_id.
func externalID(iv *connector.Interview) string {
	if iv.EventID != "" {
		return iv.EventID
	}
	return "notekeeper-" + iv.BookingID
}

type interview struct {
	ID            json.Number `json:"id"`
	ApplicationID json.Number `json:"application_id"`
	Status        string      `json:"status"`
}

// FindInterview looks the interview up by its external_event_id.
func (a *ATS) FindInterview(ctx context.Context, c connector.Candidate, iv *connector.Interview) (string, error) {
	var ivs []interview
	if err := a.get(ctx, "/interviews?external_event_id="+url.QueryEscape(externalID(iv)), &ivs); err != nil {
		return "", err
	}
	for _, i := range ivs {
		if i.ApplicationID.String() == c.ApplicationID {
			return i.ID.String(), nil
		}
	}
	return "", nil
}

// jobInterview is the plan slot to record the interview on, "" when none
// is known.
func (a *ATS) jobInterview(ctx context.Context, c connector.Candidate) (string, error) {
	if a.JobInterviewID != "" {
		return a.JobInterviewID, nil
	}
	var apps []application
	if err := a.get(ctx, "/applications?ids="+url.QueryEscape(c.ApplicationID), &apps); err != nil {
		return "", err
	}
	if len(apps) == 0 || apps[0].JobID == "" {
		return "", nil
	}
	var jis []struct {
		ID json.Number `json:"id"`
	}
	if err := a.get(ctx, "/job_interviews?job_ids="+apps[0].JobID.String(), &jis); err != nil {
		return "", err
	}
	if len(jis) == 0 {
		return "", nil
	}
	return jis[0].ID.String(), nil
}

// body is the interview in the v3 or the v2 field names.
func body(names string, iv *connector.Interview, times bool, slot string) map[string]any {
	start, end, slotKey := "starts_at", "ends_at", "job_interview_id"
	if names == "v2" {
		start, end, slotKey = "start", "end", "interview_id"
	}
	b := map[string]any{}
	if times {
		b[start], b[end] = iv.Start.UTC().Format(time.RFC3339), iv.End.UTC().Format(time.RFC3339)
	}
	if slot != "" {
		b[slotKey] = vendorhttp.Num(slot)
	}
	return b
}

// write sends a create or update in the names known to work, else v3 then
// v2; a 422 to both, a 404 or a 405 means v3 will not take this interview
// write: ErrNotSupported.
func (a *ATS) write(ctx context.Context, method, path string, build func(names string) map[string]any, out any) error {
	a.mu.Lock()
	tries := []string{"v3", "v2"}
	if a.names == "v2" {
		tries = []string{"v2", "v3"}
	}
	a.mu.Unlock()
	var err error
	for _, names := range tries {
		err = a.client().Call(ctx, method, path, "", build(names), out)
		var se *outbound.StatusError
		if err == nil {
			a.mu.Lock()
			a.names = names
			a.mu.Unlock()
			return nil
		} else if !errors.As(err, &se) || se.Unauthorized() || se.Code >= 500 || se.Code == 429 || se.Code == 408 || se.Code == 409 {
			return err
		} else if se.Code == 404 || se.Code == 405 {
			return fmt.Errorf("%w: %v", connector.ErrNotSupported, err)
		} else if se.Code != 422 {
			return err
		}
	}
	return fmt.Errorf("%w: %v", connector.ErrNotSupported, err)
}

// CreateInterview records the already scheduled calendar event as an
// interview on the application (Greenhouse sends nothing to the candidate).
func (a *ATS) CreateInterview(ctx context.Context, c connector.Candidate, iv *connector.Interview) (string, error) {
	slot, err := a.jobInterview(ctx, c)
	if err != nil {
		return "", err
	}
	var who []map[string]any
	for _, p := range iv.Interviewers {
		who = append(who, map[string]any{"email": p.Email, "response_status": "accepted"})
	}
	if len(who) == 0 {
		who = append(who, map[string]any{"user_id": vendorhttp.Num(a.UserID), "response_status": "accepted"})
	}
	var out json.RawMessage
	err = a.write(ctx, "POST", "/interviews", func(names string) map[string]any {
		b := body(names, iv, true, slot)
		b["application_id"] = vendorhttp.Num(c.ApplicationID)
		b["external_event_id"] = externalID(iv)
		b["interviewers"] = who
		if iv.MeetingLink != "" {
			b["video_conferencing_url"] = iv.MeetingLink
			b["location"] = iv.MeetingLink
		}
		return b
	}, &out)
	if err != nil {
		return "", err
	}
	return answeredID(out), nil
}

// answeredID reads {"id"} or {"interview":{"id"}} / {"data":{"id"}}.
func answeredID(raw json.RawMessage) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return ""
	}
	if id := vendorhttp.ID(top["id"]); id != "" {
		return id
	}
	for _, k := range []string{"interview", "data", "note"} {
		var inner map[string]json.RawMessage
		if json.Unmarshal(top[k], &inner) == nil {
			if id := vendorhttp.ID(inner["id"]); id != "" {
				return id
			}
		}
	}
	return ""
}

// actionable reports whether Greenhouse still has interview id scheduled
// (only then may it be changed).
func (a *ATS) actionable(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	var ivs []interview
	if err := a.get(ctx, "/interviews?ids="+url.QueryEscape(id), &ivs); err != nil {
		return false, err
	}
	for _, i := range ivs {
		if i.ID.String() == id {
			return i.Status == "scheduled" || i.Status == "awaiting_feedback", nil
		}
	}
	return false, nil
}

// UpdateInterview moves a still scheduled interview; ErrNotSupported once
// it is not.
func (a *ATS) UpdateInterview(ctx context.Context, _ connector.Candidate, id string, iv *connector.Interview) error {
	if ok, err := a.actionable(ctx, id); err != nil || !ok {
		return cmpErr(err, connector.ErrNotSupported)
	}
	return a.write(ctx, "PATCH", "/interviews/"+url.PathEscape(id), func(names string) map[string]any {
		return body(names, iv, true, "")
	}, nil)
}

// CancelInterview deletes a still scheduled interview (the calendar event
// is not Greenhouse's to delete); ErrNotSupported once it is not.
func (a *ATS) CancelInterview(ctx context.Context, _ connector.Candidate, id string, _ *connector.Interview) error {
	if ok, err := a.actionable(ctx, id); err != nil || !ok {
		return cmpErr(err, connector.ErrNotSupported)
	}
	err := a.client().Call(ctx, "DELETE", "/interviews/"+url.PathEscape(id), "", nil, nil)
	var se *outbound.StatusError
	if errors.As(err, &se) && !se.Unauthorized() && se.Code >= 400 && se.Code < 500 && se.Code != 429 && se.Code != 408 && se.Code != 409 {
		return fmt.Errorf("%w: %v", connector.ErrNotSupported, err)
	}
	return err
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// FindNote scans the acting user's notes on the candidate for marker.
func (a *ATS) FindNote(ctx context.Context, c connector.Candidate, marker string) (string, error) {
	var ns []struct {
		ID   json.Number `json:"id"`
		Body string      `json:"body"`
	}
	q := url.Values{"candidate_ids": {c.ID}, "type": {"NOTE"}, "per_page": {"500"}}
	if a.UserID != "" {
		q.Set("user_ids", a.UserID)
	}
	if err := a.get(ctx, "/notes?"+q.Encode(), &ns); err != nil {
		return "", err
	}
	for _, n := range ns {
		if strings.Contains(n.Body, marker) {
			return n.ID.String(), nil
		}
	}
	return "", nil
}

// CreateNote adds a note (final: v3 cannot edit or delete it). The candidate
// must exist — Greenhouse accepts notes for unknown IDs — which FindCandidate
// has made sure of.
func (a *ATS) CreateNote(ctx context.Context, c connector.Candidate, _, text string) (string, error) {
	if c.ID == "" {
		return "", apperr.Permanent(errors.New("greenhouse: note without a candidate"))
	}
	vis := a.Visibility
	if vis == "" {
		vis = "private"
	}
	b := map[string]any{"candidate_id": vendorhttp.Num(c.ID), "body": text, "visibility": vis, "note_type": "NOTE"}
	if c.ApplicationID != "" {
		b["application_id"] = vendorhttp.Num(c.ApplicationID)
	}
	if a.UserID != "" {
		b["user_id"] = vendorhttp.Num(a.UserID)
	}
	var out json.RawMessage
	if err := a.client().Call(ctx, "POST", "/notes", "", b, &out); err != nil {
		return "", err
	}
	return answeredID(out), nil
}

// Probe fetches a token for sub = UserID and reads that user.
func (a *ATS) Probe(ctx context.Context) error {
	if a.UserID == "" {
		return apperr.Permanent(errors.New("greenhouse: [ats] user_id (the token's sub) is not set"))
	}
	var us []struct {
		ID       json.Number `json:"id"`
		Disabled bool        `json:"disabled"`
	}
	if err := a.get(ctx, "/users?ids="+url.QueryEscape(a.UserID), &us); err != nil {
		return fmt.Errorf("greenhouse: %w", err)
	}
	for _, u := range us {
		if u.ID.String() == a.UserID && !u.Disabled {
			return nil
		}
	}
	return apperr.Permanent(fmt.Errorf("greenhouse: user %q not found or disabled (list calls need a Site Admin as sub)", a.UserID))
}
