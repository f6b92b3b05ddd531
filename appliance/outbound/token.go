package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// base returns rt, or the default transport.
func base(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}

// Token is a RoundTripper that authenticates with an OAuth 2.0
// client-credentials token (Greenhouse Harvest v3): fetched from URL with
// HTTP Basic ClientID:ClientSecret and grant_type=client_credentials plus
// sub=Subject, cached until Early before it expires, and fetched again once
// when the API answers 401. A token endpoint that refuses the credentials is
// answered to the caller as that 401/403 (so it dead-letters as an
// authentication failure instead of retrying as a network error). Use it as
// the Transport of Client.HTTP, with no Auth.
type Token struct {
	URL, ClientID, ClientSecret, Subject string
	Early                                time.Duration // default 60 s
	Next                                 http.RoundTripper
	Now                                  func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
	fetches int
}

// Fetches counts token requests made (tests).
func (t *Token) Fetches() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fetches
}

func (t *Token) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Token) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, refused, err := t.get(req.Context(), "")
	if refused != nil || err != nil {
		return refused, err
	}
	resp, err := t.send(req, tok)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || (req.Body != nil && req.GetBody == nil) {
		return resp, err
	}
	// One refresh on 401: the token may have been revoked or rotated.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if tok, refused, err = t.get(req.Context(), tok); refused != nil || err != nil {
		return refused, err
	}
	return t.send(req, tok)
}

func (t *Token) send(req *http.Request, tok string) (*http.Response, error) {
	r := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = body
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return base(t.Next).RoundTrip(r)
}

// get returns a valid token, fetching one when the cached one is stale or
// equals bad (refused by the API). refused is the token endpoint's own
// refusal (4xx), handed back as the answer to the API call.
func (t *Token) get(ctx context.Context, bad string) (tok string, refused *http.Response, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	early := t.Early
	if early == 0 {
		early = time.Minute
	}
	if t.token != "" && t.token != bad && t.now().Add(early).Before(t.expires) {
		return t.token, nil, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if t.Subject != "" {
		form.Set("sub", t.Subject)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", t.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", nil, err
	}
	req.SetBasicAuth(t.ClientID, t.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	t.fetches++
	resp, err := base(t.Next).RoundTrip(req)
	if err != nil {
		return "", nil, fmt.Errorf("token: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", nil, fmt.Errorf("token: %w", err)
	}
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 429 {
		code := resp.StatusCode
		if code != 403 {
			code = 401 // a refused client or sub is an authentication failure
		}
		return "", &http.Response{StatusCode: code, Header: http.Header{}, Request: req,
			Body: io.NopCloser(bytes.NewReader(append([]byte("token endpoint: "), raw...)))}, nil
	}
	if resp.StatusCode != 200 {
		return "", nil, fmt.Errorf("token: %s", resp.Status)
	}
	var out struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.Number     `json:"expires_in"`
		ExpiresAt   json.RawMessage `json:"expires_at"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.AccessToken == "" {
		return "", nil, fmt.Errorf("token: no access_token in the answer")
	}
	t.token, t.expires = out.AccessToken, t.expiry(out.ExpiresIn, out.ExpiresAt)
	return t.token, nil, nil
}

// expiry reads expires_in (seconds) or expires_at (RFC 3339 or Unix
// seconds); the fact sheet found both in use. Neither: one hour.
func (t *Token) expiry(in json.Number, at json.RawMessage) time.Time {
	if s, err := in.Int64(); err == nil && s > 0 {
		return t.now().Add(time.Duration(s) * time.Second)
	}
	var str string
	if json.Unmarshal(at, &str) == nil {
		if ts, err := time.Parse(time.RFC3339, str); err == nil {
			return ts
		}
		if n, err := strconv.ParseInt(str, 10, 64); err == nil {
			return time.Unix(n, 0)
		}
	}
	var n int64
	if json.Unmarshal(at, &n) == nil && n > 0 {
		return time.Unix(n, 0)
	}
	return t.now().Add(time.Hour)
}
