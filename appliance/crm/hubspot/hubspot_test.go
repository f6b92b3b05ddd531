package hubspot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/connector"
	"github.com/notekeeper/notekeeper/appliance/crm/crmtest"
	"github.com/notekeeper/notekeeper/appliance/crm/hubspot"
)

var start = time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)

func meeting() *connector.Meeting {
	return &connector.Meeting{NotetakerID: "nt1", ICalUID: "7kq2c1@google.com", Title: "Acme renewal call",
		StartsAt: start, EndsAt: start.Add(45 * time.Minute), Summary: "Jo wants to renew.", ActionItems: []string{"Send the quote"},
		RecordingURL: "https://notes.example.com/files/nt1/recording.mp4?exp=1&sig=x",
		Participants: []connector.Participant{{Name: "Jo Park", Email: "jo@acme.example"}}}
}

func setup(t *testing.T) (*crmtest.HubSpot, *hubspot.Client) {
	t.Helper()
	s := crmtest.NewHubSpot("pat-na1-good")
	t.Cleanup(s.Close)
	return s, &hubspot.Client{BaseURL: s.URL(), Token: "pat-na1-good", Lag: 300 * time.Millisecond}
}

func TestFindContacts(t *testing.T) {
	s, c := setup(t)
	jo := s.AddContact("jo@acme.example", "Jo Park", "Acme")
	li := s.AddContact("li@acme.example", "Li Wu", "Acme")
	s.AddClosedDeal(jo, "Old deal")
	deal := s.AddDeal(jo, "Renewal")
	got, err := c.FindContacts(context.Background(), []string{"jo@acme.example", "li@acme.example", "nobody@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["jo@acme.example"].ID != jo || got["jo@acme.example"].DealID != deal ||
		got["li@acme.example"].ID != li || got["li@acme.example"].DealID != "" || got["jo@acme.example"].CompanyID == "" ||
		got["jo@acme.example"].CompanyID != got["li@acme.example"].CompanyID {
		t.Fatalf("contacts %+v", got)
	}
}

func TestCreateContact_ConflictIsTheExistingContact(t *testing.T) {
	s, c := setup(t)
	jo := s.AddContact("jo@acme.example", "Jo Park", "")
	ct, err := c.CreateContact(context.Background(), connector.Participant{Name: "Jo Park", Email: "jo@acme.example"})
	if err != nil || ct.ID != jo || s.ContactCount() != 1 {
		t.Fatalf("contact %+v err %v count %d", ct, err, s.ContactCount())
	}
	ct, err = c.CreateContact(context.Background(), connector.Participant{Name: "New Person", Email: "new@prospect.example"})
	if err != nil || ct.ID == "" || s.ContactCount() != 2 {
		t.Fatalf("contact %+v err %v", ct, err)
	}
}

func TestMeeting_CreateFindUpdate(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	jo := s.AddContact("jo@acme.example", "Jo Park", "Acme")
	deal := s.AddDeal(jo, "Renewal")
	contacts, _ := c.FindContacts(ctx, []string{"jo@acme.example"})
	s.Knobs().SetLag(200 * time.Millisecond)
	m := meeting()
	id, err := c.CreateMeeting(ctx, m, []connector.Contact{contacts["jo@acme.example"]}, deal)
	if err != nil {
		t.Fatal(err)
	}
	if found, _ := c.FindMeeting(ctx, m); found != "" {
		t.Fatalf("found %q while the index lags", found)
	}
	time.Sleep(250 * time.Millisecond)
	if found, err := c.FindMeeting(ctx, m); found != id || err != nil {
		t.Fatalf("found %q err %v, want %q", found, err, id)
	}
	m.Summary = "Jo renews for two years."
	if err := c.UpdateMeeting(ctx, id, m, []connector.Contact{contacts["jo@acme.example"]}, deal); err != nil {
		t.Fatal(err)
	}
	ms := s.Meetings()
	if len(ms) != 1 || ms[0].Marker != "nt1" || !strings.Contains(ms[0].Body, "two years") || ms[0].DealID != deal ||
		len(ms[0].ContactIDs) != 1 || ms[0].CompanyID == "" || !ms[0].Start.Equal(start) || !ms[0].End.Equal(start.Add(45*time.Minute)) {
		t.Fatalf("meetings %+v", ms)
	}
}

func TestFindMeeting_CalendarCopy(t *testing.T) {
	cases := []struct {
		name  string
		start time.Time
		adopt bool
	}{
		{"same occurrence is adopted", start, true},
		{"another occurrence of the series is not", start.Add(7 * 24 * time.Hour), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := setup(t)
			cal := s.AddCalendarMeeting("7kq2c1@google.com", "Acme renewal call", tc.start)
			got, err := c.FindMeeting(context.Background(), meeting())
			if err != nil || (got == cal) != tc.adopt || (!tc.adopt && got != "") {
				t.Fatalf("found %q err %v (calendar copy %s)", got, err, cal)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*crmtest.HubSpot)
		check func(error) bool
	}{
		{"429 waits the rate-limit interval", func(s *crmtest.HubSpot) { s.Knobs().FailNext(1, 429) }, func(err error) bool { return crmtest.WaitsFor(err, 200*time.Millisecond) }},
		{"503 retries", func(s *crmtest.HubSpot) { s.Knobs().FailNext(1, 503) }, crmtest.Retryable},
		{"401 is permanent and says unauthorized", func(s *crmtest.HubSpot) { s.Knobs().Revoke(true) }, crmtest.Unauthorized},
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

func TestTasks(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	jo := s.AddContact("jo@acme.example", "Jo Park", "")
	id, err := c.CreateTask(ctx, "nt1-ai-1", "Send the quote", "", []connector.Contact{{ID: jo}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if found, err := c.FindTask(ctx, "nt1-ai-1"); found != id || err != nil {
		t.Fatalf("found %q err %v", found, err)
	}
	if ts := s.Tasks(); len(ts) != 1 || ts[0].Title != "Send the quote" || ts[0].ContactIDs[0] != jo {
		t.Fatalf("tasks %+v", ts)
	}
}
