package pipedrive_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/crm/crmtest"
	"github.com/notekeeper/notekeeper/appliance/crm/pipedrive"
)

var start = time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*crmtest.Pipedrive, *pipedrive.Client) {
	t.Helper()
	s := crmtest.NewPipedrive("tok")
	t.Cleanup(s.Close)
	return s, &pipedrive.Client{BaseURL: s.URL(), APIToken: "tok"}
}

func TestFindContacts(t *testing.T) {
	s, c := setup(t)
	jo := s.AddContact("jo@acme.example", "Jo Park", "Acme")
	s.AddContact("jo@acme.example.org", "Not Jo", "Other")
	s.AddWonDeal(jo, "Last year")
	deal := s.AddDeal(jo, "Renewal")
	got, err := c.FindContacts(context.Background(), []string{"jo@acme.example", "li@acme.example"})
	if err != nil || len(got) != 1 || got["jo@acme.example"].ID != jo || got["jo@acme.example"].DealID != deal {
		t.Fatalf("contacts %+v err %v", got, err)
	}
	for _, seen := range s.Knobs().Seen() {
		if strings.Contains(seen.URL, "tok") {
			t.Fatalf("token in the URL: %s", seen.URL)
		}
	}
}

func TestMeetingActivity(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	jo, li := s.AddContact("jo@acme.example", "Jo Park", "Acme"), s.AddContact("li@acme.example", "Li Wu", "Acme")
	deal := s.AddDeal(jo, "Renewal")
	m := &connector.Meeting{NotetakerID: "nt1", Title: "Acme renewal call", StartsAt: start, EndsAt: start.Add(90 * time.Minute), Summary: "Renewal."}
	id, err := c.CreateMeeting(ctx, m, []connector.Contact{{ID: jo}, {ID: li}}, deal)
	if err != nil {
		t.Fatal(err)
	}
	// Noise: activities that are not ours.
	for i := range 3 {
		c.CreateMeeting(ctx, &connector.Meeting{NotetakerID: fmt.Sprintf("nt1%d", i), Title: "other", StartsAt: start}, nil, "")
	}
	if found, err := c.FindMeeting(ctx, m); found != id || err != nil {
		t.Fatalf("found %q err %v, want %q", found, err, id)
	}
	ms := s.Meetings()
	var mine crmtest.Landed
	for _, l := range ms {
		if l.ID == id {
			mine = l
		}
	}
	if !mine.Start.Equal(start) || !mine.End.Equal(start.Add(90*time.Minute)) || fmt.Sprint(mine.ContactIDs) != fmt.Sprint([]string{jo, li}) || mine.DealID != deal || mine.Marker != "nt1" {
		t.Fatalf("activity %+v", mine)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*crmtest.Pipedrive)
		check func(error) bool
	}{
		{"429 honours x-ratelimit-reset", func(s *crmtest.Pipedrive) { s.RateLimitReset = 2 * time.Second; s.Knobs().FailNext(1, 429) }, func(err error) bool { return crmtest.WaitsFor(err, 2*time.Second) }},
		{"401 is permanent", func(s *crmtest.Pipedrive) { s.Knobs().Revoke(true) }, crmtest.Unauthorized},
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
