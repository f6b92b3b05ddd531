package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// throttled is an authenticator over one user with a settable clock.
func throttled(t *testing.T) (*authenticator, *time.Time) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	a, err := newAuthenticator(map[string]string{"ops": string(hash)}, time.Minute, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return a, &now
}

// TestThrottle_ClientBackoff: after freeFails failures from one address,
// that address is refused without a comparison, for a delay that doubles;
// other addresses are not affected; a success clears the record.
func TestThrottle_ClientBackoff(t *testing.T) {
	a, now := throttled(t)
	ctx := context.Background()
	bad, other := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("198.51.100.1")
	for i := range freeFails {
		if ok, err := a.verify(ctx, bad, "ops", "wrong"); ok || err != nil {
			t.Fatalf("failure %d: %v %v, want a plain refusal", i+1, ok, err)
		}
	}
	var te *throttleError
	if _, err := a.verify(ctx, bad, "ops", "right"); !errors.As(err, &te) || !errors.Is(err, errBackoff) || te.after != failDelay {
		t.Fatalf("after %d failures: %v, want errBackoff for %v", freeFails, err, failDelay)
	}
	if ok, err := a.verify(ctx, other, "ops", "right"); !ok || err != nil {
		t.Fatalf("another address: %v %v", ok, err)
	}
	clear(a.cache) // so that the next right password is compared again
	*now = now.Add(failDelay)
	if ok, err := a.verify(ctx, bad, "ops", "wrong"); ok || err != nil {
		t.Fatalf("after the delay: %v %v, want one more comparison", ok, err)
	}
	if _, err := a.verify(ctx, bad, "ops", "wrong"); !errors.As(err, &te) || te.after != 2*failDelay {
		t.Fatalf("after one more failure: %v, want errBackoff for %v", err, 2*failDelay)
	}
	*now = now.Add(2 * failDelay)
	if ok, err := a.verify(ctx, bad, "ops", "right"); !ok || err != nil {
		t.Fatalf("right password after the delay: %v %v", ok, err)
	}
	if n := len(a.throttle.clients); n != 0 {
		t.Fatalf("%d failure records after the success, want 0", n)
	}
}

// TestThrottle_GoneClientCostsNothing: a request whose ctx is done, or that
// ends while waiting for a slot, makes no comparison.
func TestThrottle_GoneClientCostsNothing(t *testing.T) {
	a, _ := throttled(t)
	ip := netip.MustParseAddr("203.0.113.8")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.verify(ctx, ip, "ops", "wrong"); !errors.Is(err, context.Canceled) {
		t.Fatalf("gone client: %v", err)
	}
	if len(a.throttle.clients) != 0 {
		t.Fatal("a gone client's request was compared")
	}
	// Every slot taken: a waiting request whose client goes returns at once.
	for range cap(a.throttle.slots) {
		a.throttle.slots <- struct{}{}
	}
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := a.verify(ctx, ip, "ops", "wrong"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("client gone while waiting: %v", err)
	}
	// And past the queue, requests are refused at once.
	for range cap(a.throttle.queue) {
		a.throttle.queue <- struct{}{}
	}
	var te *throttleError
	if _, err := a.verify(context.Background(), ip, "ops", "right"); !errors.As(err, &te) || !errors.Is(err, errBusy) {
		t.Fatalf("queue full: %v, want errBusy", err)
	}
}

// TestThrottle_Statuses: the refusals reach the client as 429 and 503 with
// Retry-After, and a cached login passes even while its address waits.
func TestThrottle_Statuses(t *testing.T) {
	a, _ := throttled(t)
	h := &Handler{auth: a, cfg: Config{Logger: slog.New(slog.DiscardHandler)}}
	srv := h.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	send := func(password string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/admin/", nil)
		r.RemoteAddr = "203.0.113.9:4000"
		r.SetBasicAuth("ops", password)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w
	}
	if w := send("right"); w.Code != 204 {
		t.Fatalf("right password: %d", w.Code)
	}
	for range freeFails {
		if w := send("wrong"); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", w.Code)
		}
	}
	w := send("wrong")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != strconv.Itoa(int(failDelay/time.Second)) {
		t.Fatalf("backed-off client: %d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if w := send("right"); w.Code != 204 {
		t.Fatalf("a cached login during the back-off: %d", w.Code)
	}
	for range cap(a.throttle.slots) {
		a.throttle.slots <- struct{}{}
	}
	for range cap(a.throttle.queue) {
		a.throttle.queue <- struct{}{}
	}
	r := httptest.NewRequest("GET", "/admin/", nil)
	r.RemoteAddr = "198.51.100.2:4000"
	r.SetBasicAuth("ops", "wrong")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, r)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("busy: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}
