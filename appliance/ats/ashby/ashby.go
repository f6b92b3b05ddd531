// Package ashby is the ATS connector for Ashby (api.ashbyhq.com): RPC-style
// POST /{category}.{method} calls with the API key as the HTTP Basic user
// name.
//
// Ashby reports most errors as HTTP 200 with {success:false, errorInfo}: every
// answer is checked, and an error code about the key or its permissions is an
// authentication failure like a 401/403. The candidate is found with
// candidate.search by e-mail, their active application through
// application.info; the interview is one interviewSchedule with one event
// whose extraData holds the booking ID (the marker interviewSchedule.list is
// scanned for), moved with interviewSchedule.update, cancelled with
// interviewSchedule.cancel; notes are candidate.createNote, found again by
// their marker line through candidate.listNotes.
package ashby

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/ats/internal/vendorhttp"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

// DefaultBaseURL is Ashby's API.
const DefaultBaseURL = "https://api.ashbyhq.com"

// ExtraData keys on every interview event notekeeper creates.
const (
	KeyBooking = "notekeeper_booking_id"
	KeyEvent   = "notekeeper_event_id"
)

// ATS is the Ashby connector; safe for concurrent use once its fields are set.
type ATS struct {
	BaseURL   string // default DefaultBaseURL
	APIKey    string
	UserID    string // optional: an Ashby user ID Probe checks exists
	Transport http.RoundTripper
	Lag       time.Duration // SearchLag; default 10 s

	once sync.Once
	api  *outbound.Client
}

var _ connector.ATS = (*ATS)(nil)

func (a *ATS) Name() string { return "ashby" }

func (a *ATS) SearchLag() time.Duration { return vendorhttp.Lag(a.Lag, 10*time.Second) }

func (a *ATS) client() *outbound.Client {
	a.once.Do(func() {
		base := a.BaseURL
		if base == "" {
			base = DefaultBaseURL
		}
		a.api = vendorhttp.NewClient(base, func(r *http.Request) {
			outbound.Basic(a.APIKey, "")(r)
			r.Header.Set("Accept", "application/json; version=1") // Ashby's versioned API
		}, a.Transport)
	})
	return a.api
}

// envelope is every Ashby answer.
type envelope struct {
	Success   *bool `json:"success"`
	ErrorInfo struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errorInfo"`
	Errors            []string        `json:"errors"`
	Results           json.RawMessage `json:"results"`
	MoreDataAvailable bool            `json:"moreDataAvailable"`
	NextCursor        string          `json:"nextCursor"`
}

// authCodes are errorInfo codes (or parts of them) that say the key or its
// permissions are wrong.
var authCodes = []string{"unauthenticated", "unauthorized", "forbidden", "api_key", "permission"}

// call POSTs method with in and returns the results of a successful answer.
func (a *ATS) call(ctx context.Context, method string, in any) (envelope, error) {
	var env envelope
	err := a.client().Call(ctx, "POST", "/"+method, "", in, &env)
	var se *outbound.StatusError
	if errors.As(err, &se) && se.Unauthorized() {
		return env, err
	} else if err != nil {
		return env, err
	}
	if env.Success == nil || !*env.Success {
		code := env.ErrorInfo.Code
		if code == "" && len(env.Errors) > 0 {
			code = env.Errors[0]
		}
		msg := strings.TrimSpace(code + " " + env.ErrorInfo.Message)
		if msg == "" {
			msg = "success is not true"
		}
		for _, c := range authCodes {
			if strings.Contains(strings.ToLower(code), c) {
				return env, apperr.Permanent(&outbound.StatusError{Method: "POST", Where: "ashby /" + method, Code: 401, Body: msg})
			}
		}
		if strings.Contains(code, "rate_limit") || strings.Contains(code, "concurrent") {
			return env, fmt.Errorf("ashby %s: %s", method, msg)
		}
		return env, apperr.Permanent(fmt.Errorf("ashby %s: success:false: %s", method, msg))
	}
	return env, nil
}

// each pages through a list method (cursor paging) calling fn per page of
// results until fn reports done.
func (a *ATS) each(ctx context.Context, method string, in map[string]any, fn func(json.RawMessage) (bool, error)) error {
	for range 50 {
		env, err := a.call(ctx, method, in)
		if err != nil {
			return err
		}
		if done, err := fn(env.Results); done || err != nil {
			return err
		}
		if !env.MoreDataAvailable || env.NextCursor == "" {
			return nil
		}
		in["cursor"] = env.NextCursor
	}
	return nil
}

type candidate struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	EmailAddresses []struct {
		Value string `json:"value"`
	} `json:"emailAddresses"`
	Primary struct {
		Value string `json:"value"`
	} `json:"primaryEmailAddress"`
	ApplicationIDs []string `json:"applicationIds"`
}

func (c candidate) has(email string) bool {
	if strings.EqualFold(c.Primary.Value, email) {
		return true
	}
	for _, e := range c.EmailAddresses {
		if strings.EqualFold(strings.TrimSpace(e.Value), email) {
			return true
		}
	}
	return false
}

// FindCandidate searches by e-mail and returns the candidate whose active
// application was updated last.
func (a *ATS) FindCandidate(ctx context.Context, email string) (connector.Candidate, error) {
	env, err := a.call(ctx, "candidate.search", map[string]any{"email": email})
	if err != nil {
		return connector.Candidate{}, err
	}
	var cs []candidate
	if err := json.Unmarshal(env.Results, &cs); err != nil {
		return connector.Candidate{}, apperr.Permanent(fmt.Errorf("ashby candidate.search: %w", err))
	}
	var best connector.Candidate
	var bestAt time.Time
	for _, c := range cs {
		if !c.has(email) {
			continue
		}
		for _, id := range c.ApplicationIDs {
			env, err := a.call(ctx, "application.info", map[string]any{"applicationId": id})
			if err != nil {
				return connector.Candidate{}, err
			}
			var app struct {
				ID        string    `json:"id"`
				Status    string    `json:"status"`
				UpdatedAt time.Time `json:"updatedAt"`
			}
			if err := json.Unmarshal(env.Results, &app); err != nil {
				return connector.Candidate{}, apperr.Permanent(fmt.Errorf("ashby application.info: %w", err))
			}
			if app.Status == "Active" && (best.ID == "" || app.UpdatedAt.After(bestAt)) {
				best, bestAt = connector.Candidate{ID: c.ID, ApplicationID: app.ID, Name: c.Name, Email: email}, app.UpdatedAt
			}
		}
	}
	if best.ID == "" {
		return best, connector.ErrNoCandidate
	}
	return best, nil
}

type schedule struct {
	ID     string `json:"id"`
	Events []struct {
		ID        string            `json:"id"`
		ExtraData map[string]string `json:"extraData"`
	} `json:"interviewEvents"`
}

// FindInterview scans the application's schedules for the booking ID in
// an event's extraData.
func (a *ATS) FindInterview(ctx context.Context, c connector.Candidate, iv *connector.Interview) (string, error) {
	found := ""
	err := a.each(ctx, "interviewSchedule.list", map[string]any{"applicationId": c.ApplicationID}, func(raw json.RawMessage) (bool, error) {
		var ss []schedule
		if err := json.Unmarshal(raw, &ss); err != nil {
			return true, apperr.Permanent(fmt.Errorf("ashby interviewSchedule.list: %w", err))
		}
		for _, s := range ss {
			for _, e := range s.Events {
				if e.ExtraData[KeyBooking] == iv.BookingID {
					found = vendorhttp.JoinID(s.ID, e.ID)
					return true, nil
				}
			}
		}
		return false, nil
	})
	return found, err
}

func event(iv *connector.Interview) map[string]any {
	var who []map[string]any
	for _, p := range iv.Interviewers {
		who = append(who, map[string]any{"email": p.Email, "feedbackRequired": false})
	}
	extra := map[string]string{KeyBooking: iv.BookingID}
	if iv.EventID != "" && len(iv.EventID) <= 512 {
		extra[KeyEvent] = iv.EventID
	}
	return map[string]any{
		"startTime":    iv.Start.UTC().Format(time.RFC3339),
		"endTime":      iv.End.UTC().Format(time.RFC3339),
		"interviewers": who,
		"extraData":    extra,
	}
}

// CreateInterview creates a schedule with one event (the org's default
// interview type: notekeeper does not choose one).
func (a *ATS) CreateInterview(ctx context.Context, c connector.Candidate, iv *connector.Interview) (string, error) {
	env, err := a.call(ctx, "interviewSchedule.create", map[string]any{
		"applicationId": c.ApplicationID, "interviewEvents": []any{event(iv)}})
	if err != nil {
		return "", err
	}
	var s schedule
	if err := json.Unmarshal(env.Results, &s); err != nil || s.ID == "" || len(s.Events) == 0 {
		return "", apperr.Permanent(fmt.Errorf("ashby interviewSchedule.create: the answer names no schedule and event"))
	}
	return vendorhttp.JoinID(s.ID, s.Events[0].ID), nil
}

// UpdateInterview moves the schedule's event.
func (a *ATS) UpdateInterview(ctx context.Context, _ connector.Candidate, id string, iv *connector.Interview) error {
	s, e := vendorhttp.SplitID(id)
	ev := event(iv)
	ev["interviewEventId"] = e
	_, err := a.call(ctx, "interviewSchedule.update", map[string]any{"interviewScheduleId": s, "interviewEvent": ev})
	return err
}

// CancelInterview cancels the schedule (no reschedule offered).
func (a *ATS) CancelInterview(ctx context.Context, _ connector.Candidate, id string, _ *connector.Interview) error {
	s, _ := vendorhttp.SplitID(id)
	_, err := a.call(ctx, "interviewSchedule.cancel", map[string]any{"id": s, "allowReschedule": false})
	return err
}

// FindNote scans the candidate's notes for marker.
func (a *ATS) FindNote(ctx context.Context, c connector.Candidate, marker string) (string, error) {
	found := ""
	err := a.each(ctx, "candidate.listNotes", map[string]any{"candidateId": c.ID}, func(raw json.RawMessage) (bool, error) {
		var ns []struct {
			ID      string `json:"id"`
			Content string `json:"content"`
		}
		if err := json.Unmarshal(raw, &ns); err != nil {
			return true, apperr.Permanent(fmt.Errorf("ashby candidate.listNotes: %w", err))
		}
		for _, n := range ns {
			if strings.Contains(n.Content, marker) {
				found = n.ID
				return true, nil
			}
		}
		return false, nil
	})
	return found, err
}

// CreateNote adds a plain-text note without notifying anyone.
func (a *ATS) CreateNote(ctx context.Context, c connector.Candidate, _, text string) (string, error) {
	env, err := a.call(ctx, "candidate.createNote", map[string]any{"candidateId": c.ID,
		"note": map[string]string{"type": "text/plain", "value": text}, "sendNotifications": false})
	if err != nil {
		return "", err
	}
	var n struct {
		ID string `json:"id"`
	}
	json.Unmarshal(env.Results, &n)
	return n.ID, nil
}

// Probe reads apiKey.info (the key works) and, with UserID set, user.info.
func (a *ATS) Probe(ctx context.Context) error {
	if _, err := a.call(ctx, "apiKey.info", map[string]any{}); err != nil {
		return fmt.Errorf("ashby: %w", err)
	}
	if a.UserID != "" {
		if _, err := a.call(ctx, "user.info", map[string]any{"userId": a.UserID}); err != nil {
			return fmt.Errorf("ashby: user %q: %w", a.UserID, err)
		}
	}
	return nil
}
