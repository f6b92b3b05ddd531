package nylas_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/nylas"
)

// calls are the client methods the retry matrix drives, one per HTTP method.
var calls = map[string]func(ctx context.Context, c *nylas.Client) error{
	"GET": func(ctx context.Context, c *nylas.Client) error { _, err := c.GetWebhook(ctx, "wh1"); return err },
	"PUT": func(ctx context.Context, c *nylas.Client) error {
		_, err := c.UpdateWebhook(ctx, "wh1", nylas.WebhookUpdate{Status: "active"})
		return err
	},
	"POST": func(ctx context.Context, c *nylas.Client) error {
		_, err := c.RotateWebhookSecret(ctx, "wh1")
		return err
	},
}

func TestRetryMatrix(t *testing.T) {
	webhook := ok(`{"id":"wh1","status":"active"}`)
	soon := time.Now().Add(20 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		name         string
		method       string
		script       []answer
		wantCalls    int
		wantStatus   int // 0: success; -1: an error that is not an *Error
		wantWaits    int
		minFirstWait time.Duration
	}{
		{name: "429 then 200 waits Retry-After seconds", method: "GET",
			script: []answer{status(429, "Retry-After", "7"), webhook}, wantCalls: 2, wantWaits: 1, minFirstWait: 7 * time.Second},
		{name: "429 then 200 waits Retry-After HTTP date", method: "GET",
			script: []answer{status(429, "Retry-After", soon), webhook}, wantCalls: 2, wantWaits: 1, minFirstWait: 18 * time.Second},
		{name: "Retry-After beyond BackoffMax is still honoured", method: "GET",
			script: []answer{status(429, "Retry-After", "120"), webhook}, wantCalls: 2, wantWaits: 1, minFirstWait: 120 * time.Second},
		{name: "Retry-After over five minutes gives up at once", method: "GET",
			script: []answer{status(429, "Retry-After", "301")}, wantCalls: 1, wantStatus: 429},
		{name: "503, 503, 200 takes three attempts", method: "GET",
			script: []answer{status(503), status(503), webhook}, wantCalls: 3, wantWaits: 2},
		{name: "503 honours Retry-After", method: "GET",
			script: []answer{status(503, "Retry-After", "3"), webhook}, wantCalls: 2, wantWaits: 1, minFirstWait: 3 * time.Second},
		{name: "500 forever gives up after MaxAttempts", method: "GET",
			script: []answer{status(500), status(500), status(500), status(500), status(500)}, wantCalls: 5, wantStatus: 500, wantWaits: 4},
		{name: "502 then 200", method: "GET", script: []answer{status(502), webhook}, wantCalls: 2, wantWaits: 1},
		{name: "504 then 200", method: "GET", script: []answer{status(504), webhook}, wantCalls: 2, wantWaits: 1},
		{name: "dropped connection then 200", method: "GET", script: []answer{{drop: true}, webhook}, wantCalls: 2, wantWaits: 1},
		{name: "404 is not retried", method: "GET",
			script: []answer{apiError(404, "not_found_error", "Webhook not found")}, wantCalls: 1, wantStatus: 404},
		{name: "400 is not retried", method: "GET",
			script: []answer{apiError(400, "invalid_request_error", "bad")}, wantCalls: 1, wantStatus: 400},
		{name: "401 is not retried", method: "GET",
			script: []answer{apiError(401, "unauthorized", "bad key")}, wantCalls: 1, wantStatus: 401},
		{name: "501 is not retried", method: "GET", script: []answer{status(501)}, wantCalls: 1, wantStatus: 501},
		{name: "PUT retried on 500", method: "PUT", script: []answer{status(500), webhook}, wantCalls: 2, wantWaits: 1},
		{name: "PUT retried after a dropped connection", method: "PUT",
			script: []answer{{drop: true}, webhook}, wantCalls: 2, wantWaits: 1},
		{name: "POST not retried on 500", method: "POST", script: []answer{status(500)}, wantCalls: 1, wantStatus: 500},
		{name: "POST not retried on 502", method: "POST", script: []answer{status(502)}, wantCalls: 1, wantStatus: 502},
		{name: "POST not retried on 504", method: "POST", script: []answer{status(504)}, wantCalls: 1, wantStatus: 504},
		{name: "POST not retried after a dropped connection", method: "POST",
			script: []answer{{drop: true}}, wantCalls: 1, wantStatus: -1},
		{name: "POST retried on 429", method: "POST", script: []answer{status(429), webhook}, wantCalls: 2, wantWaits: 1},
		{name: "POST retried on 503", method: "POST", script: []answer{status(503), webhook}, wantCalls: 2, wantWaits: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, tc.script...)
			c, waits := f.client()
			err := calls[tc.method](context.Background(), c)

			reqs := f.requests()
			if len(reqs) != tc.wantCalls {
				t.Errorf("%d requests, want %d", len(reqs), tc.wantCalls)
			}
			for i, r := range reqs {
				if r.Method != tc.method {
					t.Errorf("request %d is %s, want %s", i, r.Method, tc.method)
				}
			}
			var apiErr *nylas.Error
			switch {
			case tc.wantStatus == 0 && err != nil:
				t.Errorf("error %v, want success", err)
			case tc.wantStatus == -1 && (err == nil || errors.As(err, &apiErr)):
				t.Errorf("error %v, want a transport error", err)
			case tc.wantStatus > 0 && (!errors.As(err, &apiErr) || apiErr.Status != tc.wantStatus):
				t.Errorf("error %v, want an *Error with status %d", err, tc.wantStatus)
			}
			w := waits.All()
			if len(w) != tc.wantWaits {
				t.Errorf("waits %v, want %d of them", w, tc.wantWaits)
			}
			if tc.minFirstWait > 0 && (len(w) == 0 || w[0] < tc.minFirstWait) {
				t.Errorf("waits %v, want the first ≥ %v", w, tc.minFirstWait)
			}
			if err != nil && strings.Contains(err.Error(), apiKey) {
				t.Errorf("API key in error %q", err)
			}
		})
	}
}

func TestBackoffGrowsWithinJitterBounds(t *testing.T) {
	f := newFakeAPI(t, status(500), status(500), status(500), status(500), status(500), ok(`{"id":"wh1"}`))
	c, waits := f.client()
	c.MaxAttempts, c.BackoffBase, c.BackoffMax = 6, 100*time.Millisecond, 500*time.Millisecond
	if _, err := c.GetWebhook(context.Background(), "wh1"); err != nil {
		t.Fatal(err)
	}
	// Equal jitter: each wait lies in [d/2, d] for d = 100, 200, 400, then
	// 500 (capped) ms.
	nominal := []time.Duration{100, 200, 400, 500, 500}
	w := waits.All()
	if len(w) != len(nominal) {
		t.Fatalf("waits %v, want %d", w, len(nominal))
	}
	for i, d := range nominal {
		d *= time.Millisecond
		if w[i] < d/2 || w[i] > d {
			t.Errorf("wait %d is %v, want within [%v, %v]", i+1, w[i], d/2, d)
		}
	}
}

func TestErrorDecoding(t *testing.T) {
	cases := []struct {
		name                         string
		answer                       answer
		wantType, wantMsg, wantReqID string
		wantText                     string // err.Error() of the *Error
		wantNotFound                 bool
	}{
		{name: "Nylas error shape",
			answer:   answer{status: 404, body: `{"request_id":"req-1","error":{"type":"not_found_error","message":"Notetaker not found"}}`},
			wantType: "not_found_error", wantMsg: "Notetaker not found", wantReqID: "req-1",
			wantText: "nylas: 404 not_found_error: Notetaker not found (request req-1)", wantNotFound: true},
		{name: "400 decoded",
			answer:   answer{status: 400, body: `{"request_id":"req-7","error":{"type":"invalid_request_error","message":"limit must be <= 200"}}`},
			wantType: "invalid_request_error", wantMsg: "limit must be <= 200", wantReqID: "req-7",
			wantText: "nylas: 400 invalid_request_error: limit must be <= 200 (request req-7)"},
		{name: "error as a bare string", answer: answer{status: 403, body: `{"error":"forbidden here"}`},
			wantMsg: "forbidden here", wantText: "nylas: 403: forbidden here"},
		{name: "HTML body falls back to the status text",
			answer:  answer{status: 400, header: map[string]string{"Content-Type": "text/html"}, body: "<html>nope</html>"},
			wantMsg: "Bad Request", wantText: "nylas: 400: Bad Request"},
		{name: "empty body", answer: status(409), wantMsg: "Conflict", wantText: "nylas: 409: Conflict"},
		{name: "error body over 64 KiB is cut, not decoded",
			answer:  answer{status: 400, body: `{"error":{"type":"big","message":"` + strings.Repeat("x", nylas.MaxErrorBody) + `"}}`},
			wantMsg: "Bad Request", wantText: "nylas: 400: Bad Request"},
		{name: "long message is truncated",
			answer:   apiError(422, "invalid_request_error", strings.Repeat("y", 2000)),
			wantType: "invalid_request_error", wantMsg: strings.Repeat("y", 512) + "…", wantReqID: "req-err"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, tc.answer)
			c, _ := f.client()
			_, err := c.GetNotetaker(context.Background(), "grant-a1b2c3", "nt7Hq2LmZ")
			var e *nylas.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v, want an *Error", err)
			}
			if e.Status != tc.answer.status || e.Type != tc.wantType || e.Message != tc.wantMsg || e.RequestID != tc.wantReqID {
				t.Errorf("got status %d type %q message %.40q request %q, want %d %q %.40q %q",
					e.Status, e.Type, e.Message, e.RequestID, tc.answer.status, tc.wantType, tc.wantMsg, tc.wantReqID)
			}
			if tc.wantText != "" && e.Error() != tc.wantText {
				t.Errorf("Error() = %q, want %q", e.Error(), tc.wantText)
			}
			if got := errors.Is(err, nylas.ErrNotFound); got != tc.wantNotFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v", got, tc.wantNotFound)
			}
			if !strings.HasPrefix(err.Error(), `get notetaker "nt7Hq2LmZ": nylas: `) {
				t.Errorf("error %q lacks its context", err)
			}
		})
	}
}

func TestRealTimerRetries(t *testing.T) {
	f := newFakeAPI(t, status(429, "Retry-After", "0"), status(503), ok(`{"id":"wh1"}`))
	c := nylas.New(f.srv.URL, apiKey) // no recorded waits: real timers
	c.BackoffBase, c.BackoffMax = time.Millisecond, 5*time.Millisecond
	start := time.Now()
	if _, err := c.GetWebhook(context.Background(), "wh1"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestHTTPClientTimeoutIsRetried(t *testing.T) {
	f := newFakeAPI(t, answer{delay: 5 * time.Second, status: 200}, ok(`{"id":"wh1"}`))
	c, waits := f.client()
	c.HTTP = &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := c.GetWebhook(context.Background(), "wh1"); err != nil {
		t.Fatalf("error %v, want success on the second attempt", err)
	}
	if n := len(f.requests()); n != 2 || len(waits.All()) != 1 {
		t.Errorf("%d requests and waits %v, want 2 and 1", n, waits.All())
	}
}

func TestCancelDuringBackoffReturnsPromptly(t *testing.T) {
	f := newFakeAPI(t, status(503), status(503))
	c := nylas.New(f.srv.URL, apiKey)
	c.BackoffBase, c.BackoffMax = time.Minute, time.Minute // real timer, long wait
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-f.arrived
		time.Sleep(50 * time.Millisecond) // let the client start waiting
		cancel()
	}()
	start := time.Now()
	_, err := c.GetWebhook(ctx, "wh1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestCancelledContextSendsNothing(t *testing.T) {
	f := newFakeAPI(t)
	c, _ := f.client()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.GetWebhook(ctx, "wh1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests, want 0", n)
	}
}

func TestWaitPastDeadlineGivesUpAtOnce(t *testing.T) {
	f := newFakeAPI(t, status(429, "Retry-After", "60"))
	c := nylas.New(f.srv.URL, apiKey) // real timer: a wait would show
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.GetWebhook(ctx, "wh1")
	var e *nylas.Error
	if !errors.As(err, &e) || e.Status != 429 || e.RetryAfter != time.Minute {
		t.Fatalf("error %v, want the 429 with its Retry-After", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v", d)
	}
}

func TestBodyLimits(t *testing.T) {
	// exactly MaxBody bytes of valid envelope
	head, tail := `{"request_id":"r","data":{"id":"wh1","description":"`, `"}}`
	atLimit := head + strings.Repeat("d", nylas.MaxBody-len(head)-len(tail)) + tail
	cases := []struct {
		name    string
		answer  answer
		wantErr bool
	}{
		{name: "body of exactly 8 MiB is read", answer: answer{status: 200, body: atLimit}},
		{name: "body over 8 MiB is an error", answer: answer{status: 200, body: atLimit + " "}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, tc.answer)
			c, _ := f.client()
			w, err := c.GetWebhook(context.Background(), "wh1")
			if tc.wantErr {
				var e *nylas.Error
				if err == nil || errors.As(err, &e) || !strings.Contains(err.Error(), "over") {
					t.Errorf("error %v, want a size error", err)
				}
			} else if err != nil || w.ID != "wh1" {
				t.Errorf("got %v, %v", w, err)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d requests, want 1 (a size error is not retried)", n)
			}
		})
	}
}

func TestConnectionReusedAcrossErrorAnswers(t *testing.T) {
	f := newFakeAPI(t, apiError(503, "unavailable", "try later"), apiError(500, "internal", "oops"), ok(`{"id":"wh1"}`),
		apiError(404, "not_found_error", "gone"))
	c, _ := f.client()
	if _, err := c.GetWebhook(context.Background(), "wh1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetWebhook(context.Background(), "wh2"); !errors.Is(err, nylas.ErrNotFound) {
		t.Fatalf("error %v, want ErrNotFound", err)
	}
	if n := f.conns.Load(); n != 1 {
		t.Errorf("%d connections for 4 requests, want 1 (bodies drained)", n)
	}
}

func TestZeroValueClientUsesDefaults(t *testing.T) {
	f := newFakeAPI(t, ok(`{"id":"wh1"}`), status(503), ok(`{"id":"wh1"}`))
	c := &nylas.Client{BaseURL: f.srv.URL + "/", APIKey: apiKey}
	if _, err := c.GetWebhook(context.Background(), "wh1"); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if r.EscapedPath != "/v3/webhooks/wh1" || r.Header.Get("User-Agent") != "notekeeper" ||
		r.Header.Get("Authorization") != "Bearer "+apiKey || r.Header.Get("Accept") != "application/json" ||
		r.Header.Get("Content-Type") != "" {
		t.Errorf("request %s with headers %v", r.EscapedPath, r.Header)
	}
	// A retry with the default 500 ms back-off, on a real timer.
	if _, err := c.GetWebhook(context.Background(), "wh1"); err != nil {
		t.Fatal(err)
	}
}

func TestAPIKeyNeverInErrorsOrLogs(t *testing.T) {
	echo := fmt.Sprintf(`{"request_id":%q,"error":{"type":"unauthorized %s","message":"Authorization: Bearer %s is not valid"}}`, apiKey, apiKey, apiKey)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	cases := []struct {
		name    string
		script  []answer
		baseURL string // instead of the fake's
		key     string // instead of apiKey
		call    func(ctx context.Context, c *nylas.Client) error
	}{
		{name: "error body echoing the key", script: []answer{{status: 401, body: echo}},
			call: calls["GET"]},
		{name: "retries whose bodies echo the key", script: []answer{{status: 503, body: echo}, {status: 500, body: echo}, {status: 403, body: echo}},
			call: calls["GET"]},
		{name: "connection refused, retried", baseURL: closed.URL, call: calls["GET"]},
		{name: "dropped connections on a list with a page token",
			script: []answer{{drop: true}, {drop: true}, {drop: true}, {drop: true}, {drop: true}},
			call: func(ctx context.Context, c *nylas.Client) error {
				_, _, err := c.ListNotetakers(ctx, "grant-a1b2c3", nylas.ListQuery{PageToken: "cursor-" + apiKey})
				return err
			}},
		{name: "key that is not a valid header value", key: apiKey + "\nX-Evil: 1", call: calls["GET"]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, tc.script...)
			key := cmp.Or(tc.key, apiKey)
			c := nylas.New(cmp.Or(tc.baseURL, f.srv.URL), key)
			nylas.RecordWaits(c)
			var logs bytes.Buffer
			c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			err := tc.call(context.Background(), c)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, secret := range []string{apiKey, key} {
				if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", err), secret) {
					t.Errorf("key in error %q", err)
				}
				if strings.Contains(logs.String(), secret) {
					t.Errorf("key in logs:\n%s", logs.String())
				}
			}
			if strings.Contains(logs.String(), "?") || strings.Contains(logs.String(), "cursor-") {
				t.Errorf("query in logs:\n%s", logs.String())
			}
		})
	}
}

func TestRetryLogLine(t *testing.T) {
	f := newFakeAPI(t, status(503, "Retry-After", "2"), ok(`[]`))
	c, _ := f.client()
	var logs bytes.Buffer
	c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, _, err := c.ListNotetakers(context.Background(), "grant-a1b2c3", nylas.ListQuery{State: "media_available"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"level=WARN", "method=GET", "path=/v3/grants/grant-a1b2c3/notetakers", "status=503",
		"attempt=1", "wait=2s", "error="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "media_available") {
		t.Errorf("query in logs:\n%s", logs.String())
	}
}
