package nylas_test

import (
	"context"
	"errors"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/nylas"
)

func TestGetEvent(t *testing.T) {
	cases := []struct {
		name, grant, eventID, calendar string
		wantPath                       string
	}{
		{name: "plain ids", grant: "grant-a1b2c3", eventID: "7kq2c1vdd0l3o9n3h2", calendar: "primary",
			wantPath: "/v3/grants/grant-a1b2c3/events/7kq2c1vdd0l3o9n3h2"},
		{name: "event id with slash and space", grant: "grant-a1b2c3", eventID: "a/b c", calendar: "primary",
			wantPath: "/v3/grants/grant-a1b2c3/events/a%2Fb%20c"},
		{name: "event id with # ? %", grant: "grant-a1b2c3", eventID: "evt#1?x=%2", calendar: "primary",
			wantPath: "/v3/grants/grant-a1b2c3/events/evt%231%3Fx=%252"},
		{name: "calendar id needing query escaping", grant: "grant-a1b2c3", eventID: "e1",
			calendar: "team+ops@group.calendar.google.com", wantPath: "/v3/grants/grant-a1b2c3/events/e1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, answer{status: 200, body: fixture(t, "event-response.json")})
			c, _ := f.client()
			ev, err := c.GetEvent(context.Background(), tc.grant, tc.eventID, tc.calendar)
			if err != nil {
				t.Fatal(err)
			}
			r := f.requests()[0]
			if r.Method != "GET" || r.EscapedPath != tc.wantPath {
				t.Errorf("request %s %s, want GET %s", r.Method, r.EscapedPath, tc.wantPath)
			}
			if r.Path != "/v3/grants/"+tc.grant+"/events/"+tc.eventID {
				t.Errorf("decoded path %q does not round-trip the event id", r.Path)
			}
			if got := r.Query["calendar_id"]; len(got) != 1 || got[0] != tc.calendar || len(r.Query) != 1 {
				t.Errorf("query %q, want only calendar_id=%s", r.RawQuery, tc.calendar)
			}
			if ev.ID != "7kq2c1vdd0l3o9n3h2" || ev.GrantID != "grant-a1b2c3" || ev.CalendarID != "primary" ||
				ev.Title != "Acme renewal call" || ev.Organizer != (nylas.Participant{Email: "sarah@your-company.example", Name: "Sarah Kim"}) ||
				len(ev.Participants) != 3 || ev.Participants[2] != (nylas.Participant{Email: "li@acme.example", Name: "Li Wu", Status: "maybe"}) ||
				ev.Notetaker == nil || ev.Notetaker.ID != "nt7Hq2LmZ" {
				t.Errorf("decoded %+v", ev)
			}
		})
	}
}

func TestGetEventWithoutNotetaker(t *testing.T) {
	f := newFakeAPI(t, ok(`{"id":"e1","title":"Standup","participants":[]}`))
	c, _ := f.client()
	ev, err := c.GetEvent(context.Background(), "g", "e1", "primary")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Notetaker != nil || ev.Title != "Standup" {
		t.Errorf("decoded %+v", ev)
	}
}

func TestGetEventErrors(t *testing.T) {
	cases := []struct {
		name, grant, eventID, calendar string
		script                         []answer
		wantNotFound                   bool
	}{
		{name: "empty calendar id sends nothing", grant: "g", eventID: "e1", calendar: ""},
		{name: "empty event id sends nothing", grant: "g", eventID: "", calendar: "primary"},
		{name: "dot-dot event id sends nothing", grant: "g", eventID: "..", calendar: "primary"},
		{name: "empty grant sends nothing", grant: "", eventID: "e1", calendar: "primary"},
		{name: "404 is ErrNotFound", grant: "g", eventID: "gone", calendar: "primary",
			script: []answer{apiError(404, "not_found_error", "Event not found")}, wantNotFound: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, tc.script...)
			c, _ := f.client()
			ev, err := c.GetEvent(context.Background(), tc.grant, tc.eventID, tc.calendar)
			if err == nil {
				t.Fatalf("got %+v, want an error", ev)
			}
			if errors.Is(err, nylas.ErrNotFound) != tc.wantNotFound {
				t.Errorf("error %v: ErrNotFound match is %v", err, !tc.wantNotFound)
			}
			if got := len(f.requests()); got != len(tc.script) {
				t.Errorf("%d requests, want %d", got, len(tc.script))
			}
		})
	}
}
