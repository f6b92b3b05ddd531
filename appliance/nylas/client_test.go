package nylas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/nylas"
)

const apiKey = "nyk_v0_secret_key_value"

// api is a scripted Nylas: each request gets the next answer.
type api struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	answers []answer
	reqs    []*http.Request
	bodies  []string
}

type answer struct {
	status int
	header map[string]string
	body   string
}

func newAPI(t *testing.T, answers ...answer) (*api, *nylas.Client, *[]time.Duration) {
	a := &api{t: t, answers: answers}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.reqs = append(a.reqs, r)
		a.bodies = append(a.bodies, string(b))
		var ans answer
		if len(a.answers) > 0 {
			ans, a.answers = a.answers[0], a.answers[1:]
		} else {
			ans = answer{status: 500, body: `{"error":{"type":"internal","message":"script exhausted"}}`}
		}
		a.mu.Unlock()
		if ans.status == -1 { // drop the connection
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
			return
		}
		for k, v := range ans.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(ans.status)
		io.WriteString(w, ans.body)
	}))
	t.Cleanup(a.srv.Close)
	c := nylas.New(a.srv.URL, apiKey)
	var waits []time.Duration
	nylas.NoSleep(c, &waits)
	return a, c, &waits
}

func ok(data string) answer {
	return answer{status: 200, body: `{"request_id":"req-1","data":` + data + `}`}
}

func fixture(t *testing.T, name string) string {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGetMedia_GrantAndStandalone(t *testing.T) {
	for _, tc := range []struct{ name, grant, path string }{
		{"grant", "grant-a1b2c3", "/v3/grants/grant-a1b2c3/notetakers/nt7Hq2LmZ/media"},
		{"standalone", "", "/v3/notetakers/nt7Hq2LmZ/media"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, c, _ := newAPI(t, answer{status: 200, body: fixture(t, "media-endpoint-response.json")})
			m, err := c.GetMedia(context.Background(), tc.grant, "nt7Hq2LmZ")
			if err != nil {
				t.Fatal(err)
			}
			r := a.reqs[0]
			if r.URL.Path != tc.path || r.Header.Get("Authorization") != "Bearer "+apiKey {
				t.Fatalf("request %s %q", r.URL.Path, r.Header.Get("Authorization"))
			}
			rec := m.File("recording")
			if rec == nil || rec.Size != 52428800 || rec.Type != "video/mp4" || rec.ExpiresAt != 1738713600 || rec.TTL != 3600 ||
				!strings.HasSuffix(rec.URL, "Signature=fresh") || m.File("thumbnail").Type != "image/png" || m.File("nope") != nil {
				t.Fatalf("media %+v", rec)
			}
		})
	}
}

func TestGetEvent(t *testing.T) {
	a, c, _ := newAPI(t, answer{status: 200, body: fixture(t, "event-response.json")})
	e, err := c.GetEvent(context.Background(), "grant-a1b2c3", "a/b c", "primary")
	if err != nil {
		t.Fatal(err)
	}
	r := a.reqs[0]
	if r.URL.EscapedPath() != "/v3/grants/grant-a1b2c3/events/a%2Fb%20c" || r.URL.Query().Get("calendar_id") != "primary" {
		t.Fatalf("request %s ? %s", r.URL.EscapedPath(), r.URL.RawQuery)
	}
	if e.Title != "Acme renewal call" || len(e.Participants) != 3 || e.Participants[1].Email != "jo@acme.example" || e.Notetaker.ID != "nt7Hq2LmZ" {
		t.Fatalf("event %+v", e)
	}
	if _, err := c.GetEvent(context.Background(), "g", "e", ""); err == nil || len(a.reqs) != 1 {
		t.Fatal("empty calendar_id must fail without a request")
	}
}

func TestRetries(t *testing.T) {
	notFound := answer{status: 404, body: `{"request_id":"req-9","error":{"type":"not_found_error","message":"Notetaker not found"}}`}
	cases := []struct {
		name      string
		post      bool
		answers   []answer
		wantCalls int
		wantErr   func(error) bool
		wantWait  time.Duration // minimum first wait
	}{
		{name: "429 honours Retry-After", answers: []answer{{status: 429, header: map[string]string{"Retry-After": "7"}}, ok(`{"id":"w1"}`)},
			wantCalls: 2, wantWait: 7 * time.Second},
		{name: "503, 503, 200", answers: []answer{{status: 503}, {status: 503}, ok(`{"id":"w1"}`)}, wantCalls: 3},
		{name: "connection dropped, then 200", answers: []answer{{status: -1}, ok(`{"id":"w1"}`)}, wantCalls: 2},
		{name: "500 forever gives up", answers: []answer{{status: 500}, {status: 500}, {status: 500}, {status: 500}, {status: 500}, {status: 500}},
			wantCalls: 5, wantErr: func(err error) bool { var e *nylas.Error; return errors.As(err, &e) && e.Status == 500 }},
		{name: "404 is ErrNotFound at once", answers: []answer{notFound}, wantCalls: 1,
			wantErr: func(err error) bool {
				var e *nylas.Error
				return errors.Is(err, nylas.ErrNotFound) && errors.As(err, &e) && e.Type == "not_found_error" && e.RequestID == "req-9"
			}},
		{name: "400 not retried", answers: []answer{{status: 400, body: `{"error":{"type":"invalid_request","message":"bad"}}`}}, wantCalls: 1,
			wantErr: func(err error) bool { return strings.Contains(err.Error(), "invalid_request: bad") }},
		{name: "POST not retried on 500", post: true, answers: []answer{{status: 500}, ok(`{"id":"w1"}`)}, wantCalls: 1,
			wantErr: func(err error) bool { return err != nil }},
		{name: "POST retried on 429", post: true, answers: []answer{{status: 429}, ok(`{"id":"w1"}`)}, wantCalls: 2},
		{name: "Retry-After beyond 5 minutes gives up", answers: []answer{{status: 429, header: map[string]string{"Retry-After": "3600"}}}, wantCalls: 1,
			wantErr: func(err error) bool { return err != nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, c, waits := newAPI(t, tc.answers...)
			var err error
			if tc.post {
				_, err = c.RotateWebhookSecret(context.Background(), "w1")
			} else {
				_, err = c.GetWebhook(context.Background(), "w1")
			}
			if len(a.reqs) != tc.wantCalls {
				t.Fatalf("%d calls, want %d", len(a.reqs), tc.wantCalls)
			}
			if tc.wantErr == nil && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != nil && !tc.wantErr(err) {
				t.Fatalf("error %v", err)
			}
			if tc.wantWait > 0 && (len(*waits) == 0 || (*waits)[0] < tc.wantWait) {
				t.Fatalf("waits %v, want the first ≥ %v", *waits, tc.wantWait)
			}
			if err != nil && strings.Contains(err.Error(), apiKey) {
				t.Fatal("API key in an error")
			}
		})
	}
}

func TestContextCancelStopsRetrying(t *testing.T) {
	a, c, _ := newAPI(t, answer{status: 503}, answer{status: 503}, answer{status: 503})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.GetWebhook(ctx, "w1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v", err)
	}
	if len(a.reqs) > 1 {
		t.Fatalf("%d calls after cancel", len(a.reqs))
	}
}

func TestEachNotetaker_Paginates(t *testing.T) {
	page := func(ids []string, next string) answer {
		var items []string
		for _, id := range ids {
			items = append(items, fmt.Sprintf(`{"id":%q,"state":"media_available"}`, id))
		}
		return answer{status: 200, body: fmt.Sprintf(`{"request_id":"r","data":[%s],"next_cursor":%q}`, strings.Join(items, ","), next)}
	}
	a, c, _ := newAPI(t, page([]string{"a", "b"}, "c1"), page([]string{"c"}, "c2"), page([]string{"d"}, ""))
	var got []string
	err := c.EachNotetaker(context.Background(), "g1", nylas.ListQuery{Limit: 500, State: "media_available", JoinTimeStart: 100, JoinTimeEnd: 200},
		func(n *nylas.Notetaker) error { got = append(got, n.ID+":"+n.CurrentState()); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[a:media_available b:media_available c:media_available d:media_available]" {
		t.Fatalf("got %v", got)
	}
	q0, q2 := a.reqs[0].URL.Query(), a.reqs[2].URL.Query()
	if a.reqs[0].URL.Path != "/v3/grants/g1/notetakers" || q0.Get("limit") != "200" || q0.Get("state") != "media_available" ||
		q0.Get("join_time_start") != "100" || q0.Get("join_time_end") != "200" || q0.Get("page_token") != "" || q2.Get("page_token") != "c2" {
		t.Fatalf("queries %v / %v", q0, q2)
	}

	_, c, _ = newAPI(t, page([]string{"a"}, "loop"), page([]string{"b"}, "loop"))
	if err := c.EachNotetaker(context.Background(), "g1", nylas.ListQuery{}, func(*nylas.Notetaker) error { return nil }); err == nil {
		t.Fatal("a repeated cursor must end the listing with an error")
	}
}

func TestWebhooks(t *testing.T) {
	wh := `{"id":"wh1","status":"failing","webhook_secret":"s3cr3t","trigger_types":["notetaker.media"],"webhook_url":"https://x/webhooks/nylas"}`
	a, c, _ := newAPI(t, ok(wh), ok(wh), ok(wh), answer{status: 200, body: `{"request_id":"r","data":[` + wh + `],"next_cursor":""}`}, ok(wh))
	ctx := context.Background()
	created, err := c.CreateWebhook(ctx, nylas.WebhookCreate{TriggerTypes: []string{"notetaker.media"}, WebhookURL: "https://x/webhooks/nylas", Description: "notekeeper"})
	if err != nil || created.WebhookSecret != "s3cr3t" || created.Status != "failing" {
		t.Fatalf("create %+v %v", created, err)
	}
	var body map[string]any
	json.Unmarshal([]byte(a.bodies[0]), &body)
	if a.reqs[0].Method != "POST" || a.reqs[0].URL.Path != "/v3/webhooks" || body["webhook_url"] != "https://x/webhooks/nylas" ||
		fmt.Sprint(body["trigger_types"]) != "[notetaker.media]" || a.reqs[0].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("create request %s %s", a.reqs[0].URL.Path, a.bodies[0])
	}
	if _, err := c.UpdateWebhook(ctx, "wh1", nylas.WebhookUpdate{Status: "active"}); err != nil {
		t.Fatal(err)
	}
	if a.reqs[1].Method != "PUT" || a.bodies[1] != `{"status":"active"}` {
		t.Fatalf("update %s %s", a.reqs[1].Method, a.bodies[1])
	}
	if _, err := c.RotateWebhookSecret(ctx, "wh1"); err != nil || a.reqs[2].URL.Path != "/v3/webhooks/rotate-secret/wh1" {
		t.Fatalf("rotate %s %v", a.reqs[2].URL.Path, err)
	}
	if list, err := c.ListWebhooks(ctx); err != nil || len(list) != 1 || list[0].ID != "wh1" {
		t.Fatalf("list %+v %v", list, err)
	}
	if got, err := c.GetWebhook(ctx, "wh1"); err != nil || a.reqs[4].URL.Path != "/v3/webhooks/wh1" || got.Status != "failing" {
		t.Fatalf("get %+v %v", got, err)
	}
}

func TestAPIKeyNeverLogged(t *testing.T) {
	_, c, _ := newAPI(t, answer{status: 503}, answer{status: 503}, answer{status: 401, body: `{"error":{"type":"unauthorized","message":"bad key"}}`})
	var logs bytes.Buffer
	c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, err := c.GetNotetaker(context.Background(), "g1", "nt1")
	if err == nil || strings.Contains(err.Error(), apiKey) || strings.Contains(logs.String(), apiKey) {
		t.Fatalf("key leaked or no error: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Fatalf("retries not logged:\n%s", logs.String())
	}
}
