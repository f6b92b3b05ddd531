package appliance_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// restInterview is what the rest stand-in holds about one interview.
type restInterview struct{ start, end, status string }

// restATS is a stateful stand-in of the rest contract (docs/connectors.md) as an
// Idempotency-Key API answers it: a repeated POST key is answered 201 again
// without being applied (and without an id), interviews are addressed by
// booking ID. While hold is set, the next create blocks until release, is
// then committed, and its answer is lost (the connection is cut).
type restATS struct {
	srv        *httptest.Server
	mu         sync.Mutex
	keys       map[string]bool
	interviews map[string]*restInterview
	creates    int
	hold       chan struct{} // closed by release
	held       chan struct{} // closed when the held create arrives
}

func newRestATS(t *testing.T) *restATS {
	a := &restATS{keys: map[string]bool{}, interviews: map[string]*restInterview{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.handle))
	t.Cleanup(a.srv.Close)
	return a
}

// holdNext makes the next create wait for release and lose its answer.
func (a *restATS) holdNext() (held <-chan struct{}, release func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hold, a.held = make(chan struct{}), make(chan struct{})
	hold := a.hold
	return a.held, func() { close(hold) }
}

func (a *restATS) interview(bookingID string) (restInterview, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	iv, ok := a.interviews[bookingID]
	if !ok {
		return restInterview{}, false
	}
	return *iv, true
}

func (a *restATS) handle(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer ats-key" {
		writeJSONAnswer(w, 401, map[string]string{"error": "bad key"})
		return
	}
	var in struct {
		BookingID string `json:"booking_id"`
		Start     string `json:"start_time"`
		End       string `json:"end_time"`
		Status    string `json:"status"`
	}
	if json.NewDecoder(r.Body).Decode(&in) != nil {
		writeJSONAnswer(w, 400, map[string]string{"error": "not JSON"})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	a.mu.Lock()
	hold, held := a.hold, a.held
	if r.Method == "POST" && r.URL.Path == "/api/interviews" && hold != nil {
		a.hold, a.held = nil, nil
		a.mu.Unlock()
		close(held)
		<-hold
		a.mu.Lock()
	}
	defer a.mu.Unlock()
	switch {
	case r.Method == "POST" && r.URL.Path == "/api/interviews":
		if key == "" {
			writeJSONAnswer(w, 400, map[string]string{"error": "Idempotency-Key required"})
			return
		}
		if a.keys[key] {
			writeJSONAnswer(w, 201, map[string]string{"status": "replayed"})
			return
		}
		a.keys[key] = true
		a.creates++
		a.interviews[in.BookingID] = &restInterview{start: in.Start, end: in.End, status: in.Status}
		if hold != nil { // committed; the answer is lost
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Close()
				return
			}
		}
		writeJSONAnswer(w, 201, map[string]string{"id": in.BookingID})
	case r.Method == "PATCH" && strings.HasPrefix(r.URL.Path, "/api/interviews/"):
		iv, ok := a.interviews[strings.TrimPrefix(r.URL.Path, "/api/interviews/")]
		if !ok {
			writeJSONAnswer(w, 404, map[string]string{"error": "no such interview"})
			return
		}
		if in.Status != "" {
			iv.status = in.Status
		}
		if in.Start != "" {
			iv.start, iv.end = in.Start, in.End
		}
		writeJSONAnswer(w, 200, map[string]string{"status": "ok"})
	default:
		writeJSONAnswer(w, 404, map[string]string{"error": "no route"})
	}
}

func writeJSONAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// A booking rescheduled while its create's answer is lost: the create
// landed with the first times, the retry is answered for its
// Idempotency-Key without being applied, and the move must still reach the
// interview (the soak's bkg-soak-00062).
func TestATS_RescheduleWhileTheCreateIsUnconfirmedIsNotLost(t *testing.T) {
	fake, ats, crm := newFakeNylas(t), newRestATS(t), newFakeCRM(t)
	app := openATSAppWithBookings(t, fake, &fakeATS{srv: ats.srv}, crm)
	held, release := ats.holdNext()
	if status, _ := app.postSigned(t, fixture(t, "booking-created.json")); status != 200 {
		t.Fatal(status)
	}
	<-held // the create is in flight with the first times
	if status, _ := app.postSigned(t, fixture(t, "booking-rescheduled.json")); status != 200 {
		t.Fatal(status)
	}
	moved := time.Date(2024, 7, 2, 14, 0, 0, 0, time.UTC)
	waitFor(t, "the booking to move", func() bool {
		b, err := app.DB.Booking("bkg-5521")
		return err == nil && b.Start.Equal(moved)
	})
	release()
	waitFor(t, "queue to drain", drained(app.DB))
	if dead, _ := app.DB.Tasks(); len(dead) != 0 {
		t.Fatalf("tasks left: %+v", dead)
	}
	iv, ok := ats.interview("bkg-5521")
	if !ok || ats.creates != 1 {
		t.Fatalf("%d interviews created, want 1", ats.creates)
	}
	if iv.start != "2024-07-02T14:00:00Z" || iv.end != "2024-07-02T14:45:00Z" || iv.status != "scheduled" {
		t.Fatalf("the ATS holds %+v, want the moved times 2024-07-02T14:00:00Z–14:45:00Z", iv)
	}
	d, err := app.DB.ATSDelivery("bkg-5521")
	if err != nil || !d.Interview.Done || !d.Told.Start.Equal(moved) {
		t.Fatalf("delivery %+v (%v), want the interview done and told the moved start", d, err)
	}
}
