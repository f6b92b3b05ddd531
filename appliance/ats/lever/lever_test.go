package lever_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/ats/atstest"
	"github.com/notekeeper/notekeeper/appliance/ats/lever"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

func open(t *testing.T) (*lever.ATS, *atstest.Lever) {
	s := atstest.NewLever("lever-key")
	t.Cleanup(s.Close)
	return &lever.ATS{BaseURL: s.URL + "/v1", APIKey: "lever-key", UserID: "c4a1e1d2-0f9b-4d7e-b6a5-3e2d1c0b9a08"}, s
}

func TestLever_FindCandidate(t *testing.T) {
	cases := []struct {
		name, email, opp string
		err              error
	}{
		// Three opportunities: the archived one was updated last; of the
		// active two the newer wins.
		{"most recently updated active opportunity", "dana.chen@candidates.example", "250d8f03-738a-4bba-a671-8a3d73477145", nil},
		{"case-insensitive", "Dana.Chen@Candidates.example", "250d8f03-738a-4bba-a671-8a3d73477145", nil},
		{"unknown", "nobody@elsewhere.example", "", connector.ErrNoCandidate},
		{"not an address lever takes", "dana chen", "", connector.ErrNoCandidate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := open(t)
			c, err := a.FindCandidate(t.Context(), tc.email)
			if !errors.Is(err, tc.err) || c.ApplicationID != tc.opp {
				t.Fatalf("got %+v, %v; want opportunity %q, %v", c, err, tc.opp, tc.err)
			}
			if tc.opp != "" && c.ID != "7f23e772-a7b0-4e96-8b59-8b3d5e3d8a11" {
				t.Fatalf("contact %q", c.ID)
			}
		})
	}
}

func TestLever_ProbeNeedsTheActingUser(t *testing.T) {
	a, _ := open(t)
	if err := a.Probe(t.Context()); err != nil {
		t.Fatalf("probe: %v", err)
	}
	a, _ = open(t)
	a.UserID = "00000000-0000-4000-8000-000000000000"
	if err := a.Probe(t.Context()); err == nil || !strings.Contains(err.Error(), "acting user") {
		t.Fatalf("probe with an unknown user: %v", err)
	}
	a, _ = open(t)
	a.APIKey = "wrong"
	var se *outbound.StatusError
	if err := a.Probe(t.Context()); !errors.As(err, &se) || !se.Unauthorized() {
		t.Fatalf("probe with a wrong key: %v", err)
	}
}

func TestLever_InterviewIsAPanelWithTheOrganizer(t *testing.T) {
	a, s := open(t)
	ctx := t.Context()
	c, _ := a.FindCandidate(ctx, "dana.chen@candidates.example")
	iv := &connector.Interview{BookingID: "bkg-1", Title: "Interview with Dana Chen", MeetingLink: "https://meet.example/x",
		Organizer: connector.Attendee{Email: "sarah@your-company.example"}}
	iv.Start, iv.End = mustTime("2024-07-01T14:00:00Z"), mustTime("2024-07-01T14:45:00Z")
	id, err := a.CreateInterview(ctx, c, iv)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Interviews()
	if len(got) != 1 || got[0].Interviewers[0] != "8d49b010-cc6a-4f40-ace5-e86061c677ed" || !strings.Contains(got[0].Text, connector.Marker("bkg-1", "interview")) {
		t.Fatalf("interview %+v (want Sarah's Lever user as interviewer, the marker in its note)", got)
	}
	if found, err := a.FindInterview(ctx, c, iv); found != id || err != nil {
		t.Fatalf("find %q %v, want %q", found, err, id)
	}
	for _, r := range s.Requests() {
		if r.Method != "GET" && !strings.Contains(r.Query, "perform_as=c4a1e1d2") {
			t.Fatalf("%s %s without perform_as", r.Method, r.Path)
		}
	}
}

func mustTime(s string) (t time.Time) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
