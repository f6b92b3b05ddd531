package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/crm/rest"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

func TestMeetingBody(t *testing.T) {
	start := time.Date(2026, 5, 4, 15, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	cases := []struct {
		name         string
		start, end   time.Time
		wantStartsAt any
		wantEndsAt   any
	}{
		{"times known, in UTC", start, start.Add(45 * time.Minute), "2026-05-04T13:00:00Z", "2026-05-04T13:45:00Z"},
		{"times unknown are null", time.Time{}, time.Time{}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got map[string]any
			var idem []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				b, _ := io.ReadAll(r.Body)
				json.Unmarshal(b, &got)
				idem = append(idem, r.Header.Get("Idempotency-Key"))
				w.Write([]byte(`{"id":"m1"}`))
			}))
			defer srv.Close()
			c := &rest.Connector{API: &outbound.Client{BaseURL: srv.URL, APIKey: "k"}}
			m := &connector.Meeting{NotetakerID: "nt1", Title: "Call", StartsAt: tc.start, EndsAt: tc.end, ActionItems: []string{"a"}}
			id, err := c.CreateMeeting(context.Background(), m, []connector.Contact{{ID: "c1", DealID: "d1"}}, "d1")
			if err != nil || id != "m1" {
				t.Fatalf("id %q err %v", id, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got["starts_at"] != tc.wantStartsAt || got["ends_at"] != tc.wantEndsAt || got["associated_deal_id"] != "d1" ||
				got["external_notetaker_id"] != "nt1" || got["source"] != "notekeeper" || idem[0] != "notekeeper-crm-nt1" {
				t.Fatalf("body %v idem %v", got, idem)
			}
		})
	}
}

func TestUnsupported(t *testing.T) {
	c := &rest.Connector{}
	if _, err := c.CreateContact(context.Background(), connector.Participant{Email: "a@b.example"}); !errors.Is(err, connector.ErrUnsupported) {
		t.Fatal(err)
	}
	if _, err := c.CreateTask(context.Background(), "m", "t", "", nil, ""); !errors.Is(err, connector.ErrUnsupported) {
		t.Fatal(err)
	}
}
