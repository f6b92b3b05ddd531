package close_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/connector"
	closecrm "github.com/notekeeper/notekeeper/appliance/crm/close"
	"github.com/notekeeper/notekeeper/appliance/crm/crmtest"
)

func setup(t *testing.T) (*crmtest.Close, *closecrm.Client) {
	t.Helper()
	s := crmtest.NewClose("api_key")
	t.Cleanup(s.Close)
	return s, &closecrm.Client{BaseURL: s.URL(), APIKey: "api_key"}
}

func TestFindContacts(t *testing.T) {
	s, c := setup(t)
	jo := s.AddContact("Jo@Acme.example", "Jo Park", "Acme")
	opp := s.AddDeal(jo, "Renewal")
	got, err := c.FindContacts(context.Background(), []string{"jo@acme.example", `we"ird@acme.example`, "li@acme.example"})
	if err != nil || len(got) != 1 || got["jo@acme.example"].ID != jo || got["jo@acme.example"].CompanyID != s.LeadOf(jo) || got["jo@acme.example"].DealID != opp {
		t.Fatalf("contacts %+v err %v", got, err)
	}
}

func TestNote(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	jo := s.AddContact("jo@acme.example", "Jo Park", "Acme")
	lead := s.LeadOf(jo)
	m := &connector.Meeting{NotetakerID: "nt1", Title: "Acme renewal call", Summary: "Renewal.",
		StartsAt: time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC), Participants: []connector.Participant{{Email: "jo@acme.example"}}}
	if _, err := c.CreateMeeting(ctx, m, nil, ""); !errors.Is(err, connector.ErrUnsupported) {
		t.Fatalf("note without a lead: %v", err)
	}
	// Other notes on the lead, more than a page of them.
	for i := range 120 {
		c.CreateMeeting(ctx, &connector.Meeting{NotetakerID: fmt.Sprintf("nt1-%d", i), Title: "other"}, []connector.Contact{{ID: jo, CompanyID: lead}}, "")
	}
	id, err := c.CreateMeeting(ctx, m, []connector.Contact{{ID: jo, CompanyID: lead}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if found, err := c.FindMeeting(ctx, m); found != id || err != nil {
		t.Fatalf("found %q err %v, want %q", found, err, id)
	}
	m.Summary = "Renewal for two years."
	if err := c.UpdateMeeting(ctx, id, m, []connector.Contact{{ID: jo, CompanyID: lead}}, ""); err != nil {
		t.Fatal(err)
	}
	var mine []crmtest.Landed
	for _, n := range s.Meetings() {
		if n.Marker == "nt1" {
			mine = append(mine, n)
		}
	}
	if len(mine) != 1 || mine[0].CompanyID != lead || !strings.Contains(mine[0].Body, "two years") {
		t.Fatalf("notes %+v", mine)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*crmtest.Close)
		check func(error) bool
	}{
		{"429 honours RateLimit reset", func(s *crmtest.Close) { s.RateReset = 1500 * time.Millisecond; s.Knobs().FailNext(1, 429) }, func(err error) bool { return crmtest.WaitsFor(err, 1500*time.Millisecond) }},
		{"wrong key is unauthorized", func(s *crmtest.Close) { s.Knobs().Revoke(true) }, crmtest.Unauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := setup(t)
			tc.setup(s)
			if err := c.Probe(context.Background()); !tc.check(err) {
				t.Fatalf("error %v", err)
			}
		})
	}
}
