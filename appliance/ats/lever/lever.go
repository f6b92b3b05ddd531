// Package lever is the ATS connector for Lever (api.lever.co/v1, API-key
// Basic auth, every write with perform_as = the acting user).
//
// The candidate is the opportunity found by exact e-mail (the most recently
// updated active one when the address has several); the interview is a panel
// on it holding one interview at the booked time with the organizer as
// interviewer (the acting user when the organizer is not a Lever user),
// moved with PUT on reschedule and removed with DELETE on cancel; the
// archived meeting is one secret note and, when a transcript exists, one
// file. Lever deduplicates nothing: the marker line sits in the interview's
// note and in every note, and the Find methods scan the opportunity's
// panels, notes and files for it.
package lever

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
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

// DefaultBaseURL is Lever's API; the sandbox is https://api.sandbox.lever.co/v1.
const DefaultBaseURL = "https://api.lever.co/v1"

// ATS is the Lever connector. Set the fields, then use it; it is safe for
// concurrent use.
type ATS struct {
	BaseURL   string // default DefaultBaseURL
	APIKey    string
	UserID    string            // perform_as: the Lever user the writes are made as
	Transport http.RoundTripper // default http.DefaultTransport
	Lag       time.Duration     // SearchLag; default 10 s

	once sync.Once
	api  *outbound.Client
}

var (
	_ connector.ATS        = (*ATS)(nil)
	_ connector.FileWriter = (*ATS)(nil)
)

func (a *ATS) Name() string { return "lever" }

func (a *ATS) SearchLag() time.Duration { return vendorhttp.Lag(a.Lag, 10*time.Second) }

func (a *ATS) base() string {
	if a.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(a.BaseURL, "/")
}

func (a *ATS) client() *outbound.Client {
	a.once.Do(func() {
		a.api = vendorhttp.NewClient(a.base(), outbound.Basic(a.APIKey, ""), a.Transport)
	})
	return a.api
}

func (a *ATS) performAs() string { return "perform_as=" + url.QueryEscape(a.UserID) }

func opp(c connector.Candidate) string { return "/opportunities/" + url.PathEscape(c.ApplicationID) }

// list GETs every page of a Lever list (offset paging through next/hasNext)
// and calls each with every page's data, until each returns true.
func (a *ATS) list(ctx context.Context, path string, each func(json.RawMessage) (bool, error)) error {
	next := ""
	for range 50 {
		p := path
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		p += sep + "limit=100"
		if next != "" {
			p += "&offset=" + url.QueryEscape(next)
		}
		var page struct {
			Data    json.RawMessage `json:"data"`
			HasNext bool            `json:"hasNext"`
			Next    string          `json:"next"`
		}
		if err := a.client().Call(ctx, "GET", p, "", nil, &page); err != nil {
			return err
		}
		if done, err := each(page.Data); done || err != nil {
			return err
		}
		if !page.HasNext || page.Next == "" {
			return nil
		}
		next = page.Next
	}
	return nil
}

type opportunity struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Contact  json.RawMessage `json:"contact"` // an ID, or {id,…} with expand=contact
	Emails   []string        `json:"emails"`
	Archived json.RawMessage `json:"archived"`
	Updated  int64           `json:"updatedAt"`
}

func (o opportunity) contactID() string {
	var c struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(o.Contact, &c) == nil && c.ID != "" {
		return c.ID
	}
	return vendorhttp.ID(o.Contact)
}

func (o opportunity) active() bool {
	s := strings.TrimSpace(string(o.Archived))
	return s == "" || s == "null"
}

// FindCandidate returns the most recently updated active opportunity with
// exactly this address.
func (a *ATS) FindCandidate(ctx context.Context, email string) (connector.Candidate, error) {
	var best *opportunity
	err := a.list(ctx, "/opportunities?archived=false&expand=contact&email="+url.QueryEscape(email), func(raw json.RawMessage) (bool, error) {
		var os []opportunity
		if err := json.Unmarshal(raw, &os); err != nil {
			return true, apperr.Permanent(fmt.Errorf("lever opportunities: %w", err))
		}
		for i := range os {
			o := os[i]
			exact := false
			for _, e := range o.Emails {
				exact = exact || strings.EqualFold(strings.TrimSpace(e), email)
			}
			if exact && o.active() && (best == nil || o.Updated > best.Updated) {
				best = &o
			}
		}
		return false, nil
	})
	var se *outbound.StatusError
	if errors.As(err, &se) && se.Code == 400 && strings.Contains(se.Body, "Email address is not valid") {
		return connector.Candidate{}, connector.ErrNoCandidate // Lever cannot hold such an address
	} else if err != nil {
		return connector.Candidate{}, err
	}
	if best == nil {
		return connector.Candidate{}, connector.ErrNoCandidate
	}
	return connector.Candidate{ID: best.contactID(), ApplicationID: best.ID, Name: best.Name, Email: email}, nil
}

// interviewer is the Lever user ID of the organizer, else the acting user.
func (a *ATS) interviewer(ctx context.Context, iv *connector.Interview) (string, error) {
	if iv.Organizer.Email != "" {
		var out struct {
			Data []struct {
				ID    string `json:"id"`
				Email string `json:"email"`
			} `json:"data"`
		}
		if err := a.client().Call(ctx, "GET", "/users?email="+url.QueryEscape(iv.Organizer.Email), "", nil, &out); err != nil {
			return "", err
		}
		for _, u := range out.Data {
			if strings.EqualFold(u.Email, iv.Organizer.Email) {
				return u.ID, nil
			}
		}
	}
	return a.UserID, nil
}

type panelInterview struct {
	ID   string `json:"id"`
	Note string `json:"note"`
}

type panel struct {
	ID         string           `json:"id"`
	Note       string           `json:"note"`
	Interviews []panelInterview `json:"interviews"`
}

// FindInterview scans the opportunity's panels for the booking's marker.
func (a *ATS) FindInterview(ctx context.Context, c connector.Candidate, iv *connector.Interview) (string, error) {
	marker, found := connector.Marker(iv.BookingID, "interview"), ""
	err := a.list(ctx, opp(c)+"/panels", func(raw json.RawMessage) (bool, error) {
		var ps []panel
		if err := json.Unmarshal(raw, &ps); err != nil {
			return true, apperr.Permanent(fmt.Errorf("lever panels: %w", err))
		}
		for _, p := range ps {
			for _, i := range p.Interviews {
				if strings.Contains(i.Note, marker) || strings.Contains(p.Note, marker) {
					found = vendorhttp.JoinID(p.ID, i.ID)
					return true, nil
				}
			}
		}
		return false, nil
	})
	return found, err
}

func (a *ATS) interviewBody(iv *connector.Interview, who string) map[string]any {
	note := strings.TrimSpace(iv.MeetingLink + "\n" + connector.Marker(iv.BookingID, "interview"))
	return map[string]any{
		"subject":      cmpOr(iv.Title, "Interview"),
		"note":         note,
		"interviewers": []map[string]string{{"id": who}},
		"date":         iv.Start.UnixMilli(),
		"duration":     max(1, int(iv.End.Sub(iv.Start)/time.Minute)),
	}
}

// CreateInterview creates an externally managed panel with one interview.
func (a *ATS) CreateInterview(ctx context.Context, c connector.Candidate, iv *connector.Interview) (string, error) {
	who, err := a.interviewer(ctx, iv)
	if err != nil {
		return "", err
	}
	body := map[string]any{"timezone": "UTC", "externallyManaged": true,
		"interviews": []map[string]any{a.interviewBody(iv, who)}}
	if iv.MeetingLink != "" {
		body["externalUrl"] = iv.MeetingLink
	}
	var out struct {
		Data struct {
			ID         string           `json:"id"`
			Interviews []panelInterview `json:"interviews"`
		} `json:"data"`
	}
	if err := a.client().Call(ctx, "POST", opp(c)+"/panels?"+a.performAs(), "", body, &out); err != nil {
		return "", err
	}
	if out.Data.ID == "" || len(out.Data.Interviews) == 0 {
		return "", apperr.Permanent(errors.New("lever: the panel answer names no interview"))
	}
	return vendorhttp.JoinID(out.Data.ID, out.Data.Interviews[0].ID), nil
}

// UpdateInterview moves the interview (PUT …/interviews/{id}).
func (a *ATS) UpdateInterview(ctx context.Context, c connector.Candidate, id string, iv *connector.Interview) error {
	p, i := vendorhttp.SplitID(id)
	if i == "" {
		return connector.ErrNotSupported
	}
	who, err := a.interviewer(ctx, iv)
	if err != nil {
		return err
	}
	body := a.interviewBody(iv, who)
	body["panel"] = p
	return a.client().Call(ctx, "PUT", opp(c)+"/interviews/"+url.PathEscape(i)+"?"+a.performAs(), "", body, nil)
}

// CancelInterview removes the interview; one already gone counts as removed.
func (a *ATS) CancelInterview(ctx context.Context, c connector.Candidate, id string, iv *connector.Interview) error {
	_, i := vendorhttp.SplitID(id)
	if i == "" {
		return connector.ErrNotSupported
	}
	err := a.client().Call(ctx, "DELETE", opp(c)+"/interviews/"+url.PathEscape(i)+"?"+a.performAs(), "", nil, nil)
	var se *outbound.StatusError
	if errors.As(err, &se) && se.Code == 404 {
		return nil
	}
	return err
}

// FindNote scans the opportunity's notes for marker.
func (a *ATS) FindNote(ctx context.Context, c connector.Candidate, marker string) (string, error) {
	found := ""
	err := a.list(ctx, opp(c)+"/notes", func(raw json.RawMessage) (bool, error) {
		var ns []struct {
			ID     string `json:"id"`
			Text   string `json:"text"`
			Fields []struct {
				Value any `json:"value"`
			} `json:"fields"`
		}
		if err := json.Unmarshal(raw, &ns); err != nil {
			return true, apperr.Permanent(fmt.Errorf("lever notes: %w", err))
		}
		for _, n := range ns {
			hit := strings.Contains(n.Text, marker)
			for _, f := range n.Fields {
				hit = hit || strings.Contains(fmt.Sprint(f.Value), marker)
			}
			if hit {
				found = n.ID
				return true, nil
			}
		}
		return false, nil
	})
	return found, err
}

// CreateNote adds a secret note (admins, tagged users and those with
// sensitive-information access see it).
func (a *ATS) CreateNote(ctx context.Context, c connector.Candidate, _, text string) (string, error) {
	var out struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	body := map[string]any{"value": text, "secret": true, "notifyFollowers": false}
	if err := a.client().Call(ctx, "POST", opp(c)+"/notes?"+a.performAs(), "", body, &out); err != nil {
		return "", err
	}
	return out.Data.ID, nil
}

// FindFile returns the ID of the opportunity's file called name.
func (a *ATS) FindFile(ctx context.Context, c connector.Candidate, name string) (string, error) {
	found := ""
	err := a.list(ctx, opp(c)+"/files", func(raw json.RawMessage) (bool, error) {
		var fs []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &fs); err != nil {
			return true, apperr.Permanent(fmt.Errorf("lever files: %w", err))
		}
		for _, f := range fs {
			if f.Name == name {
				found = f.ID
				return true, nil
			}
		}
		return false, nil
	})
	return found, err
}

// MaxFile is Lever's file size limit.
const MaxFile = 30 << 20

// CreateFile uploads data as the multipart field "file".
func (a *ATS) CreateFile(ctx context.Context, c connector.Candidate, name, contentType string, data []byte) (string, error) {
	if len(data) > MaxFile {
		data = data[:MaxFile]
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name="file"; filename=%q`, name)}
	h["Content-Type"] = []string{contentType}
	part, err := mw.CreatePart(h)
	if err != nil {
		return "", apperr.Permanent(err)
	}
	part.Write(data)
	mw.Close()
	where := opp(c) + "/files"
	req, err := http.NewRequestWithContext(ctx, "POST", a.base()+where+"?"+a.performAs(), bytes.NewReader(buf.Bytes()))
	if err != nil {
		return "", apperr.Permanent(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	outbound.Basic(a.APIKey, "")(req)
	hc := &http.Client{Timeout: 2 * vendorhttp.Timeout, Transport: a.Transport}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", where, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := classify("POST", where, resp, raw); err != nil {
		return "", err
	}
	var out struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	json.Unmarshal(raw, &out)
	return out.Data.ID, nil
}

// classify maps a non-2xx answer like outbound.Client.Call does.
func classify(method, where string, resp *http.Response, raw []byte) error {
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return nil
	case code == 408 || code == 409 || code == 429 || code >= 500:
		err := &outbound.StatusError{Method: method, Where: where, Code: code}
		if d := outbound.RetryAfter(resp.Header, time.Now()); d > 0 {
			return &apperr.RetryAfterError{After: d, Err: err}
		}
		return err
	}
	return apperr.Permanent(&outbound.StatusError{Method: method, Where: where, Code: code,
		Body: strings.TrimSpace(string(raw[:min(len(raw), 512)]))})
}

// Probe reads the acting user: it proves the key and that perform_as exists.
func (a *ATS) Probe(ctx context.Context) error {
	if a.UserID == "" {
		return apperr.Permanent(errors.New("lever: [ats] user_id (perform_as) is not set"))
	}
	var out struct {
		Data struct {
			ID            string `json:"id"`
			DeactivatedAt any    `json:"deactivatedAt"`
		} `json:"data"`
	}
	if err := a.client().Call(ctx, "GET", "/users/"+url.PathEscape(a.UserID), "", nil, &out); err != nil {
		return fmt.Errorf("lever: acting user %q: %w", a.UserID, err)
	}
	if out.Data.DeactivatedAt != nil {
		return apperr.Permanent(fmt.Errorf("lever: acting user %q is deactivated", a.UserID))
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
