package rest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/ats/rest"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

type seen struct {
	method, path, idem, auth string
	body                     map[string]any
}

func server(t *testing.T, answer string) (*rest.ATS, func() []seen) {
	var mu sync.Mutex
	var reqs []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		reqs = append(reqs, seen{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), r.Header.Get("Authorization"), body})
		mu.Unlock()
		if r.Method == "POST" {
			w.Write([]byte(answer))
		}
	}))
	t.Cleanup(srv.Close)
	return &rest.ATS{API: &outbound.Client{BaseURL: srv.URL, APIKey: "ats-key"}}, func() []seen {
		mu.Lock()
		defer mu.Unlock()
		return append([]seen(nil), reqs...)
	}
}

func TestRest_LaterWritesAddressTheAnsweredID(t *testing.T) {
	cases := []struct {
		name, answer, path string
	}{
		{"string id", `{"id":"iv-77"}`, "/api/interviews/iv-77"},
		{"numeric id", `{"id":77}`, "/api/interviews/77"},
		{"no id: the booking ID", `{}`, "/api/interviews/bkg-1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, reqs := server(t, tc.answer)
			iv := &connector.Interview{BookingID: "bkg-1", EventID: "evt-1", PreviousBookingID: "bkg-0", ConfigurationID: "cfg-1",
				Candidate: connector.Attendee{Name: "Dana", Email: "dana@c.example"}, Organizer: connector.Attendee{Name: "Sarah", Email: "sarah@y.example"},
				Interviewers: []connector.Attendee{{Name: "Sarah", Email: "sarah@y.example"}},
				Start:        time.Date(2024, 7, 1, 14, 0, 0, 0, time.UTC), End: time.Date(2024, 7, 1, 14, 45, 0, 0, time.UTC)}
			id, err := a.CreateInterview(t.Context(), connector.Candidate{}, iv)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.UpdateInterview(t.Context(), connector.Candidate{}, id, iv); err != nil {
				t.Fatal(err)
			}
			if err := a.CancelInterview(t.Context(), connector.Candidate{}, id, iv); err != nil {
				t.Fatal(err)
			}
			r := reqs()
			if len(r) != 3 || r[1].path != tc.path || r[2].path != tc.path || r[2].body["status"] != "cancelled" {
				t.Fatalf("requests %+v, want PATCHes to %s", r, tc.path)
			}
			post := r[0].body
			org, _ := post["organizer"].(map[string]any)
			if post["previous_booking_id"] != "bkg-0" || post["configuration_id"] != "cfg-1" || org["email"] != "sarah@y.example" ||
				len(post["interviewers"].([]any)) != 1 || r[0].idem != "notekeeper-ats-bkg-1" || r[0].auth != "Bearer ats-key" {
				t.Fatalf("POST %+v", r[0])
			}
		})
	}
}
