package salesforce_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/crm/crmtest"
	"github.com/notekeeper/notekeeper/appliance/crm/salesforce"
)

func setup(t *testing.T) (*crmtest.Salesforce, *salesforce.Client) {
	t.Helper()
	s := crmtest.NewSalesforce("cid", "secret")
	t.Cleanup(s.Close)
	return s, &salesforce.Client{LoginURL: s.URL(), ClientID: "cid", ClientSecret: "secret"}
}

func tokenRequests(s *crmtest.Salesforce) int {
	n := 0
	for _, r := range s.Knobs().Seen() {
		if strings.HasSuffix(r.URL, "/services/oauth2/token") {
			n++
		}
	}
	return n
}

func TestFindContacts_EscapedLiteralsAndOpenOpportunity(t *testing.T) {
	s, c := setup(t)
	odd := s.AddContact(`o'neil\x@acme.example`, "Pat O'Neil", "Acme")
	jo := s.AddContact("Jo@Acme.example", "Jo Park", "Acme")
	s.AddClosedDeal(jo, "Lost")
	opp := s.AddDeal(jo, "Renewal")
	got, err := c.FindContacts(context.Background(), []string{`o'neil\x@acme.example`, "jo@acme.example", "x' OR Email != '"})
	if err != nil || len(got) != 2 || got[`o'neil\x@acme.example`].ID != odd || got["jo@acme.example"].ID != jo || got["jo@acme.example"].DealID != opp {
		t.Fatalf("contacts %+v err %v", got, err)
	}
}

func TestSession(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(*crmtest.Salesforce, *salesforce.Client)
		check  func(error) bool
		tokens int
	}{
		{"token cached across calls", func(*crmtest.Salesforce, *salesforce.Client) {}, func(err error) bool { return err == nil }, 1},
		{"expired session refreshed once", func(s *crmtest.Salesforce, c *salesforce.Client) {
			c.Probe(context.Background())
			s.ExpireSessions()
		}, func(err error) bool { return err == nil }, 2},
		{"wrong secret is unauthorized and permanent", func(s *crmtest.Salesforce, c *salesforce.Client) { c.ClientSecret = "wrong" }, func(err error) bool {
			return crmtest.Unauthorized(err) && strings.Contains(err.Error(), "invalid_client")
		}, 1},
		{"daily API limit waits an hour", func(s *crmtest.Salesforce, c *salesforce.Client) {
			c.Probe(context.Background())
			s.Knobs().FailNext(1, 403)
		}, func(err error) bool { return crmtest.WaitsFor(err, time.Hour) }, 1},
		{"503 retries", func(s *crmtest.Salesforce, c *salesforce.Client) {
			c.Probe(context.Background())
			s.Knobs().FailNext(1, 503)
		}, crmtest.Retryable, 1},
		{"missing marker field fails the probe", func(s *crmtest.Salesforce, c *salesforce.Client) { s.MarkerField = false }, func(err error) bool {
			return !crmtest.Retryable(err) && err != nil && strings.Contains(err.Error(), "INVALID_FIELD")
		}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := setup(t)
			tc.setup(s, c)
			err := c.Probe(context.Background())
			if !tc.check(err) {
				t.Fatalf("error %v", err)
			}
			if n := tokenRequests(s); n != tc.tokens {
				t.Fatalf("%d token requests, want %d", n, tc.tokens)
			}
		})
	}
}

func TestEvent(t *testing.T) {
	start := time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared activities %v", shared), func(t *testing.T) {
			s, c := setup(t)
			s.SharedActivities = shared
			ctx := context.Background()
			jo, li := s.AddContact("jo@acme.example", "Jo Park", "Acme"), s.AddContact("li@acme.example", "Li Wu", "Acme")
			opp := s.AddDeal(jo, "Renewal")
			m := &connector.Meeting{NotetakerID: "nt1", Title: "Acme renewal call", StartsAt: start, EndsAt: start.Add(time.Hour), Summary: "Renewal."}
			cs := []connector.Contact{{ID: jo}, {ID: li}}
			id, err := c.CreateMeeting(ctx, m, cs, opp)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.UpdateMeeting(ctx, id, m, cs, opp); err != nil { // adds nothing twice
				t.Fatal(err)
			}
			if found, err := c.FindMeeting(ctx, m); found != id || err != nil {
				t.Fatalf("found %q err %v", found, err)
			}
			ev := s.Meetings()
			want := []string{jo, li}
			if !shared {
				want = want[:1]
			}
			if len(ev) != 1 || fmt.Sprint(ev[0].ContactIDs) != fmt.Sprint(want) || ev[0].DealID != opp || !ev[0].Start.Equal(start) || ev[0].Marker != "nt1" {
				t.Fatalf("events %+v", ev)
			}
			if u := c.RecordURL(id); u != s.URL()+"/lightning/r/Event/"+id+"/view" {
				t.Fatalf("record URL %q", u)
			}
		})
	}
}
