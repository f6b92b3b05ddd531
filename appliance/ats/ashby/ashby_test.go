package ashby_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/ats/ashby"
	"github.com/notekeeper/notekeeper/appliance/ats/atstest"
	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/outbound"
)

func open(t *testing.T) (*ashby.ATS, *atstest.Ashby) {
	s := atstest.NewAshby("ashby-key")
	t.Cleanup(s.Close)
	return &ashby.ATS{BaseURL: s.URL, APIKey: "ashby-key", UserID: "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"}, s
}

var iv = &connector.Interview{BookingID: "bkg-1", EventID: "evt-1", Start: time.Date(2024, 7, 1, 14, 0, 0, 0, time.UTC),
	End: time.Date(2024, 7, 1, 14, 45, 0, 0, time.UTC), Interviewers: []connector.Attendee{{Email: "sarah@your-company.example"}}}

func TestAshby_FindCreateFind(t *testing.T) {
	a, s := open(t)
	ctx := t.Context()
	c, err := a.FindCandidate(ctx, "dana.chen@candidates.example")
	if err != nil || c.ID != "f9e52a51-a075-4116-a7b8-484deba69004" || c.ApplicationID != "1bd1f0f8-0dc3-4b2e-9b55-7ce1e3b90a01" {
		t.Fatalf("candidate %+v, %v (want the Active application, not the later-updated Archived one)", c, err)
	}
	if _, err := a.FindCandidate(ctx, "nobody@elsewhere.example"); !errors.Is(err, connector.ErrNoCandidate) {
		t.Fatalf("unknown address: %v", err)
	}
	if id, err := a.FindInterview(ctx, c, iv); id != "" || err != nil {
		t.Fatalf("before create: %q %v", id, err)
	}
	id, err := a.CreateInterview(ctx, c, iv)
	if err != nil || !strings.Contains(id, "/") {
		t.Fatalf("create: %q %v", id, err)
	}
	if found, err := a.FindInterview(ctx, c, iv); found != id || err != nil {
		t.Fatalf("find by extraData: %q %v, want %q", found, err, id)
	}
	if got := s.Interviews(); len(got) != 1 || got[0].Key != "bkg-1" || got[0].Interviewers[0] != "sarah@your-company.example" {
		t.Fatalf("stand-in has %+v", got)
	}
	if err := a.Probe(ctx); err != nil {
		t.Fatalf("probe: %v", err)
	}
}

func TestAshby_SuccessFalseIsAFailure(t *testing.T) {
	cases := []struct {
		name, code string
		auth       bool
	}{
		{"invalid input", "invalid_input", false},
		{"missing permission", "missing_endpoint_permission", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, s := open(t)
			s.ErrorNext(1, tc.code)
			_, err := a.FindCandidate(t.Context(), "dana.chen@candidates.example")
			var perm *apperr.PermanentError
			if !errors.As(err, &perm) || !strings.Contains(err.Error(), tc.code) {
				t.Fatalf("got %v, want a permanent error naming %s", err, tc.code)
			}
			var se *outbound.StatusError
			if auth := errors.As(err, &se) && se.Unauthorized(); auth != tc.auth {
				t.Fatalf("classified unauthorized=%v, want %v: %v", auth, tc.auth, err)
			}
		})
	}
}

func TestAshby_WrongKeyIsUnauthorized(t *testing.T) {
	a, _ := open(t)
	a.APIKey = "wrong"
	err := a.Probe(t.Context())
	var se *outbound.StatusError
	if !errors.As(err, &se) || !se.Unauthorized() {
		t.Fatalf("probe with a wrong key: %v", err)
	}
}
