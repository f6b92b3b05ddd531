package greenhouse_test

import (
	"errors"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/ats/atstest"
	"github.com/notekeeper/notekeeper/appliance/ats/greenhouse"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

func open(t *testing.T) (*greenhouse.ATS, *atstest.Greenhouse) {
	s := atstest.NewGreenhouse("gh-client", "gh-secret")
	t.Cleanup(s.Close)
	return &greenhouse.ATS{BaseURL: s.URL + "/v3", TokenURL: s.TokenURL(), ClientID: "gh-client", ClientSecret: "gh-secret", UserID: "4081"}, s
}

func interview() *connector.Interview {
	return &connector.Interview{BookingID: "bkg-1", EventID: "evt-1", Start: time.Date(2024, 7, 1, 14, 0, 0, 0, time.UTC),
		End: time.Date(2024, 7, 1, 14, 45, 0, 0, time.UTC), Interviewers: []connector.Attendee{{Email: "sarah@your-company.example"}}}
}

func TestGreenhouse_CandidateIsTheActiveApplication(t *testing.T) {
	a, _ := open(t)
	c, err := a.FindCandidate(t.Context(), "dana.chen@candidates.example")
	// The rejected application and the prospect were active later; neither counts.
	if err != nil || c.ID != "53883394" || c.ApplicationID != "69306314" || c.Name != "Dana Chen" {
		t.Fatalf("candidate %+v, %v", c, err)
	}
	if _, err := a.FindCandidate(t.Context(), "nobody@elsewhere.example"); !errors.Is(err, connector.ErrNoCandidate) {
		t.Fatalf("unknown: %v", err)
	}
}

func TestGreenhouse_InterviewWriteNames(t *testing.T) {
	for _, names := range []string{"v3", "v2"} {
		t.Run(names, func(t *testing.T) {
			a, s := open(t)
			s.WriteNames = names
			ctx := t.Context()
			c, err := a.FindCandidate(ctx, "dana.chen@candidates.example")
			if err != nil {
				t.Fatal(err)
			}
			iv := interview()
			id, err := a.CreateInterview(ctx, c, iv)
			if err != nil || id == "" {
				t.Fatalf("create: %q %v", id, err)
			}
			if found, err := a.FindInterview(ctx, c, iv); found != id || err != nil {
				t.Fatalf("find by external_event_id: %q %v, want %q", found, err, id)
			}
			iv.Start, iv.End = iv.Start.Add(24*time.Hour), iv.End.Add(24*time.Hour)
			if err := a.UpdateInterview(ctx, c, id, iv); err != nil {
				t.Fatalf("update: %v", err)
			}
			got := s.Interviews()
			if len(got) != 1 || !got[0].Start.Equal(iv.Start) || got[0].Key != "evt-1" || got[0].ApplicationID != "69306314" {
				t.Fatalf("stand-in has %+v", got)
			}
			if err := a.CancelInterview(ctx, c, id, iv); err != nil {
				t.Fatalf("cancel: %v", err)
			}
			if got := s.Interviews(); got[0].Status != "deleted" {
				t.Fatalf("after cancel %+v", got[0])
			}
		})
	}
}

func TestGreenhouse_OnlyScheduledInterviewsChange(t *testing.T) {
	a, s := open(t)
	ctx := t.Context()
	c, _ := a.FindCandidate(ctx, "dana.chen@candidates.example")
	iv := interview()
	id, err := a.CreateInterview(ctx, c, iv)
	if err != nil {
		t.Fatal(err)
	}
	s.SetInterviewStatus(id, "complete")
	if err := a.UpdateInterview(ctx, c, id, iv); !errors.Is(err, connector.ErrNotSupported) {
		t.Fatalf("update of a complete interview: %v, want ErrNotSupported", err)
	}
	if err := a.CancelInterview(ctx, c, id, iv); !errors.Is(err, connector.ErrNotSupported) {
		t.Fatalf("cancel of a complete interview: %v, want ErrNotSupported", err)
	}
}

func TestGreenhouse_TokenCachedAndRefreshedOnce(t *testing.T) {
	a, s := open(t)
	ctx := t.Context()
	for range 3 {
		if err := a.Probe(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.TokenFetches(); n != 1 {
		t.Fatalf("%d tokens for 3 calls, want 1 (cached)", n)
	}
	s.RevokeTokens()
	if err := a.Probe(ctx); err != nil {
		t.Fatalf("after a revoked token: %v", err)
	}
	if n := s.TokenFetches(); n != 2 {
		t.Fatalf("%d tokens, want one refresh on the 401", n)
	}
}

func TestGreenhouse_BadCredentials(t *testing.T) {
	cases := []struct {
		name string
		edit func(a *greenhouse.ATS)
	}{
		{"wrong secret", func(a *greenhouse.ATS) { a.ClientSecret = "wrong" }},
		{"sub not a user", func(a *greenhouse.ATS) { a.UserID = "999" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, s := open(t)
			tc.edit(a)
			err := a.Probe(t.Context())
			var se *outbound.StatusError
			if !errors.As(err, &se) || !se.Unauthorized() {
				t.Fatalf("probe: %v, want an unauthorized StatusError", err)
			}
			if n := len(s.Requests()); n > 2 {
				t.Fatalf("%d requests", n)
			}
		})
	}
}

func TestGreenhouse_NoteIsWrittenAsDocumented(t *testing.T) {
	a, s := open(t)
	ctx := t.Context()
	c, _ := a.FindCandidate(ctx, "dana.chen@candidates.example")
	marker := connector.NotesMarker("nt-1")
	id, err := a.CreateNote(ctx, c, marker, "Summary\n\n"+marker)
	if err != nil || id == "" {
		t.Fatalf("create: %q %v", id, err)
	}
	if found, err := a.FindNote(ctx, c, marker); found != id || err != nil {
		t.Fatalf("find: %q %v", found, err)
	}
	if n := s.Notes(); len(n) != 1 || n[0].CandidateID != "53883394" || n[0].ApplicationID != "69306314" {
		t.Fatalf("notes %+v", n)
	}
}
