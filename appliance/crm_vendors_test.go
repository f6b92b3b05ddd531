package appliance_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/connector"
	closecrm "github.com/notekeeper/notekeeper/appliance/crm/close"
	"github.com/notekeeper/notekeeper/appliance/crm/crmtest"
	"github.com/notekeeper/notekeeper/appliance/crm/hubspot"
	"github.com/notekeeper/notekeeper/appliance/crm/pipedrive"
	"github.com/notekeeper/notekeeper/appliance/crm/rest"
	"github.com/notekeeper/notekeeper/appliance/crm/salesforce"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/outbound"
	"github.com/notekeeper/notekeeper/store"
)

// crmVendor is one CRM connector with its stand-in, for the table below.
type crmVendor struct {
	name string
	// open starts the stand-in and a connector pointed at it; lag is the
	// search lag the connector assumes (short, for tests).
	open func(t *testing.T) (crmtest.StandIn, connector.CRM)
	// outage is the status the crmVendor answers when overloaded.
	outage int
	tasks  bool // supports tasks_from_action_items
	// onLead: the record hangs on the first contact's lead, which holds the
	// other contacts and the opportunity (Close notes), instead of linking
	// each contact and the deal itself.
	onLead bool
	// noContacts: create_contacts is not supported (the rest contract).
	noContacts bool
}

var crmVendors = []crmVendor{
	{name: "rest", outage: 429, noContacts: true, open: func(t *testing.T) (crmtest.StandIn, connector.CRM) {
		s := crmtest.NewREST("crm-key")
		t.Cleanup(s.Close)
		return s, &rest.Connector{API: &outbound.Client{BaseURL: s.URL(), APIKey: "crm-key"}}
	}},
	{name: "hubspot", outage: 429, tasks: true, open: func(t *testing.T) (crmtest.StandIn, connector.CRM) {
		s := crmtest.NewHubSpot("pat-na1-test")
		s.RateLimitInterval = 20 * time.Millisecond
		t.Cleanup(s.Close)
		s.Knobs().SetLag(150 * time.Millisecond)
		return s, &hubspot.Client{BaseURL: s.URL(), Token: "pat-na1-test", Lag: 250 * time.Millisecond}
	}},
	{name: "pipedrive", outage: 429, tasks: true, open: func(t *testing.T) (crmtest.StandIn, connector.CRM) {
		s := crmtest.NewPipedrive("pd-token-test")
		s.RateLimitReset = 20 * time.Millisecond
		t.Cleanup(s.Close)
		s.Knobs().SetLag(100 * time.Millisecond)
		return s, &pipedrive.Client{BaseURL: s.URL(), APIToken: "pd-token-test", Lag: 250 * time.Millisecond}
	}},
	{name: "salesforce", outage: 503, tasks: true, open: func(t *testing.T) (crmtest.StandIn, connector.CRM) {
		s := crmtest.NewSalesforce("3MVG9-test-client", "sf-secret-test")
		t.Cleanup(s.Close)
		return s, &salesforce.Client{LoginURL: s.URL(), ClientID: "3MVG9-test-client", ClientSecret: "sf-secret-test"}
	}},
	{name: "close", outage: 429, onLead: true, open: func(t *testing.T) (crmtest.StandIn, connector.CRM) {
		s := crmtest.NewClose("api_test_key")
		s.RateReset = 20 * time.Millisecond
		t.Cleanup(s.Close)
		s.Knobs().SetLag(100 * time.Millisecond)
		return s, &closecrm.Client{BaseURL: s.URL(), APIKey: "api_test_key", Lag: 250 * time.Millisecond}
	}},
}

var acmeStart = time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)

// salesMeeting registers the seed sales meeting (fixtures/event-response.json
// with its times and iCalUID) and seeds Jo (with an open deal) and Li in the
// CRM. It returns Jo's and Li's contact IDs and the deal's.
func salesMeeting(t *testing.T, fake *fakeNylas, crm crmtest.StandIn, participants string) (jo, li, deal string) {
	fake.add("nt7Hq2LmZ", "grant-a1b2c3", meetingFiles(t, 64<<10, "video/mp4"))
	var ev struct {
		Data map[string]any `json:"data"`
	}
	json.Unmarshal(fixture(t, "event-response.json"), &ev)
	ev.Data["ical_uid"] = "7kq2c1vdd0l3o9n3h2@google.com"
	ev.Data["when"] = map[string]any{"object": "timespan", "start_time": acmeStart.Unix(), "end_time": acmeStart.Add(45 * time.Minute).Unix()}
	if participants != "" {
		var ps any
		json.Unmarshal([]byte(participants), &ps)
		ev.Data["participants"] = ps
	}
	b, _ := json.Marshal(ev.Data)
	fake.events["evt-nt7Hq2LmZ"] = string(b)
	jo = crm.AddContact("jo@acme.example", "Jo Park", "Acme")
	li = crm.AddContact("li@acme.example", "Li Wu", "Acme")
	deal = crm.AddDeal(jo, "Acme renewal")
	return jo, li, deal
}

func openCRMVendorApp(t *testing.T, fake *fakeNylas, conn connector.CRM, tune func(*appliance.CRM)) *archiveApp {
	t.Helper()
	var c *appliance.CRM
	app := openArchiveApp(t, fake, func(a *appliance.Archiver) {
		c = &appliance.CRM{
			DB: a.DB, Nylas: a.Nylas, Connector: conn,
			InternalDomains: []string{"your-company.example"},
			Links:           &links.Signer{Key: []byte("0123456789abcdef0123"), BaseURL: "https://notes.example.com", TTL: time.Hour, Now: time.Now},
			DataDir:         a.DataDir, Logger: a.Logger,
		}
		if tune != nil {
			tune(c)
		}
		a.OnArchived = appliance.RouteArchived(a.DB, c, nil)
	}, func(app *archiveApp) {
		c.Register(app.Pool)
		app.Pool.DeadLetterAlert = (&appliance.Alerter{DB: app.DB, Logger: app.Pool.Logger}).DeadLetter
	})
	return app
}

// checkSalesRecord judges the one stored record of the sales meeting.
func checkSalesRecord(t *testing.T, v crmVendor, crm crmtest.StandIn, jo, li, deal string) crmtest.Landed {
	t.Helper()
	ms := crm.Meetings()
	if len(ms) != 1 {
		t.Fatalf("%d meeting records, want 1: %+v", len(ms), ms)
	}
	m := ms[0]
	problems := []string{}
	if m.Title != "Acme renewal call" {
		problems = append(problems, "title "+m.Title)
	}
	if !m.Start.Equal(acmeStart) || !m.End.Equal(acmeStart.Add(45*time.Minute)) && !(v.onLead && strings.Contains(m.Body, "2026-05-04 15:00–15:45 UTC")) {
		problems = append(problems, fmt.Sprintf("times %v–%v", m.Start, m.End))
	}
	for _, want := range []string{"Jo wants to renew for two years.", "Send the renewal quote", "Book a follow-up",
		"https://notes.example.com/files/nt7Hq2LmZ/recording.mp4?exp=", "https://notes.example.com/files/nt7Hq2LmZ/transcript.txt?exp="} {
		if !strings.Contains(strings.ReplaceAll(m.Body, "&amp;", "&"), want) {
			problems = append(problems, "body lacks "+want)
		}
	}
	switch {
	case v.onLead:
		if lead := crm.(interface{ LeadOf(string) string }).LeadOf(jo); m.CompanyID != lead || !slices.Contains(m.ContactIDs, jo) {
			problems = append(problems, fmt.Sprintf("on lead %s with %v, want lead %s (holding %s, %s and %s) with %s", m.CompanyID, m.ContactIDs, lead, jo, li, deal, jo))
		}
	case !slices.Contains(m.ContactIDs, jo) || !slices.Contains(m.ContactIDs, li):
		problems = append(problems, fmt.Sprintf("contacts %v, want %s and %s", m.ContactIDs, jo, li))
	case m.DealID != deal:
		problems = append(problems, "deal "+m.DealID)
	}
	if m.Marker != "nt7Hq2LmZ" && !strings.Contains(m.Body, "[notekeeper:nt7Hq2LmZ]") {
		problems = append(problems, "no marker")
	}
	if len(problems) > 0 {
		t.Fatalf("record %+v: %s", m, strings.Join(problems, "; "))
	}
	return m
}

// checkNothingLeaked fails when any request to the CRM carries the Nylas
// API key or a Nylas media URL.
func checkNothingLeaked(t *testing.T, fake *fakeNylas, crm crmtest.StandIn) {
	t.Helper()
	for _, s := range crm.Knobs().Seen() {
		all := s.URL + " " + s.Body + fmt.Sprint(s.Header)
		if strings.Contains(all, "test-api-key") || strings.Contains(all, fake.storage.URL) || strings.Contains(all, "X-Goog-Signature") {
			t.Fatalf("request %s %s carries a Nylas secret or media URL", s.Method, s.URL)
		}
	}
}

func TestCRMVendors(t *testing.T) {
	for _, v := range crmVendors {
		t.Run(v.name, func(t *testing.T) {
			t.Run("sales meeting lands as one record; redeliveries add nothing", func(t *testing.T) {
				fake := newFakeNylas(t)
				crm, conn := v.open(t)
				jo, li, deal := salesMeeting(t, fake, crm, "")
				app := openCRMVendorApp(t, fake, conn, nil)
				body := fake.mediaNotification("n-acme", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...)
				for range 3 {
					app.postSigned(t, body)
				}
				waitFor(t, "CRM record", func() bool { return len(crm.Meetings()) == 1 })
				waitFor(t, "queue to drain", drained(app.DB))
				first := checkSalesRecord(t, v, crm, jo, li, deal)
				creates := crm.Knobs().Creates()
				// A second available notification for the same meeting, and a replay.
				app.postSigned(t, fake.mediaNotification("n-acme-2", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
				app.DB.Enqueue(store.TaskRef{Kind: store.TaskCRM, Subject: "nt7Hq2LmZ"})
				time.Sleep(100 * time.Millisecond)
				waitFor(t, "queue to drain", drained(app.DB))
				if again := checkSalesRecord(t, v, crm, jo, li, deal); again.ID != first.ID || crm.Knobs().Creates() != creates {
					t.Fatalf("redelivery created: %d creates, was %d", crm.Knobs().Creates(), creates)
				}
				d, err := app.DB.CRMDelivery("nt7Hq2LmZ")
				if err != nil || d.RecordID != first.ID || d.Connector != v.name || !d.Intent.IsZero() {
					t.Fatalf("delivery %+v %v", d, err)
				}
				checkNothingLeaked(t, fake, crm)
			})
			t.Run("changed content updates the same record", func(t *testing.T) {
				fake := newFakeNylas(t)
				crm, conn := v.open(t)
				jo, li, deal := salesMeeting(t, fake, crm, "")
				app := openCRMVendorApp(t, fake, conn, nil)
				app.postSigned(t, fake.mediaNotification("n-acme", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
				waitFor(t, "CRM record", func() bool { return len(crm.Meetings()) == 1 })
				waitFor(t, "queue to drain", drained(app.DB))
				first := checkSalesRecord(t, v, crm, jo, li, deal)
				nt, _ := app.DB.Notetaker("nt7Hq2LmZ")
				dir, _ := archive.MediaDir(app.DataDir, "nt7Hq2LmZ")
				if err := os.WriteFile(filepath.Join(dir, nt.Archived["summary"].Name), []byte(`{"summary":"Jo renews for three years."}`), 0o600); err != nil {
					t.Fatal(err)
				}
				app.DB.Enqueue(store.TaskRef{Kind: store.TaskCRM, Subject: "nt7Hq2LmZ"})
				waitFor(t, "the update", func() bool {
					ms := crm.Meetings()
					return len(ms) == 1 && strings.Contains(ms[0].Body, "three years")
				})
				if ms := crm.Meetings(); ms[0].ID != first.ID || strings.Contains(ms[0].Body, "two years") {
					t.Fatalf("record %+v, want %s updated in place", ms[0], first.ID)
				}
			})
			t.Run("internal-only meeting creates nothing", func(t *testing.T) {
				fake := newFakeNylas(t)
				crm, conn := v.open(t)
				salesMeeting(t, fake, crm, `[{"email":"sarah@your-company.example"},{"email":"Bob@YOUR-COMPANY.example"}]`)
				app := openCRMVendorApp(t, fake, conn, nil)
				app.postSigned(t, fake.mediaNotification("n-int", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
				app.waitArchived(t, "nt7Hq2LmZ")
				waitFor(t, "queue to drain", drained(app.DB))
				if n := crm.Knobs().Requests(); n != 0 || len(crm.Meetings()) != 0 {
					t.Fatalf("%d requests, %d records", n, len(crm.Meetings()))
				}
				if d, err := app.DB.CRMDelivery("nt7Hq2LmZ"); err != nil || d.Skipped != "no external participant" {
					t.Fatalf("delivery %+v %v", d, err)
				}
			})
			t.Run("overload answers before success leave one record", func(t *testing.T) {
				fake := newFakeNylas(t)
				crm, conn := v.open(t)
				jo, li, deal := salesMeeting(t, fake, crm, "")
				crm.Knobs().FailNext(3, v.outage)
				app := openCRMVendorApp(t, fake, conn, nil)
				app.postSigned(t, fake.mediaNotification("n-acme", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
				waitFor(t, "CRM record", func() bool { return len(crm.Meetings()) == 1 })
				waitFor(t, "queue to drain", drained(app.DB))
				checkSalesRecord(t, v, crm, jo, li, deal)
			})
			t.Run("create whose answer is lost, then a re-run: one record", func(t *testing.T) {
				fake := newFakeNylas(t)
				crm, conn := v.open(t)
				jo, li, deal := salesMeeting(t, fake, crm, "")
				crm.Knobs().CutNextCreate()
				app := openCRMVendorApp(t, fake, conn, nil)
				app.postSigned(t, fake.mediaNotification("n-acme", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
				waitFor(t, "delivery", func() bool {
					d, err := app.DB.CRMDelivery("nt7Hq2LmZ")
					return err == nil && d.RecordID != ""
				})
				waitFor(t, "queue to drain", drained(app.DB))
				m := checkSalesRecord(t, v, crm, jo, li, deal)
				if d, _ := app.DB.CRMDelivery("nt7Hq2LmZ"); d.RecordID != m.ID {
					t.Fatalf("stored record %q, stand-in holds %q", d.RecordID, m.ID)
				}
			})
			t.Run("401 dead-letters after a bounded number of requests", func(t *testing.T) {
				fake := newFakeNylas(t)
				crm, conn := v.open(t)
				salesMeeting(t, fake, crm, "")
				crm.Knobs().Revoke(true)
				app := openCRMVendorApp(t, fake, conn, nil)
				app.postSigned(t, fake.mediaNotification("n-acme", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
				waitFor(t, "dead letter", func() bool {
					task, err := app.DB.Task("crm/nt7Hq2LmZ")
					return err == nil && task.Dead
				})
				waitFor(t, "delivery.failed", func() bool {
					alerts, _ := app.DB.Alerts()
					return len(alerts) == 1 && alerts[0].Kind == "delivery.failed" && alerts[0].Subject == "nt7Hq2LmZ" &&
						strings.Contains(alerts[0].Message, "crm "+v.name+" rejected the credentials")
				})
				if n := crm.Knobs().Requests(); n > 3 {
					t.Fatalf("%d requests with revoked credentials", n)
				}
				if len(crm.Meetings()) != 0 {
					t.Fatal("a record landed")
				}
			})
			if v.tasks {
				t.Run("tasks from action items, each created once", func(t *testing.T) {
					fake := newFakeNylas(t)
					crm, conn := v.open(t)
					salesMeeting(t, fake, crm, "")
					crm.Knobs().CutNextCreate() // the meeting's
					app := openCRMVendorApp(t, fake, conn, func(c *appliance.CRM) { c.TasksFromActionItems = true })
					app.postSigned(t, fake.mediaNotification("n-acme", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
					waitFor(t, "tasks", func() bool { return len(crm.Tasks()) == 2 })
					waitFor(t, "queue to drain", drained(app.DB))
					app.DB.Enqueue(store.TaskRef{Kind: store.TaskCRM, Subject: "nt7Hq2LmZ"})
					time.Sleep(100 * time.Millisecond)
					waitFor(t, "queue to drain", drained(app.DB))
					ts := crm.Tasks()
					if len(ts) != 2 || len(crm.Meetings()) != 1 {
						t.Fatalf("tasks %+v meetings %d", ts, len(crm.Meetings()))
					}
					d, _ := app.DB.CRMDelivery("nt7Hq2LmZ")
					if len(d.Tasks) != 2 || len(d.TaskIntents) != 0 {
						t.Fatalf("delivery tasks %v intents %v", d.Tasks, d.TaskIntents)
					}
				})
			}
			t.Run("create_contacts creates an unknown participant once; without it they stay unmatched", func(t *testing.T) {
				for _, create := range []bool{false, true} {
					if create && v.noContacts {
						continue
					}
					fake := newFakeNylas(t)
					crm, conn := v.open(t)
					salesMeeting(t, fake, crm, `[{"email":"sarah@your-company.example"},{"email":"jo@acme.example","name":"Jo Park"},{"email":"New@Prospect.example","name":"Nia Ode"}]`)
					before := crm.ContactCount()
					app := openCRMVendorApp(t, fake, conn, func(c *appliance.CRM) { c.CreateContacts = create })
					app.postSigned(t, fake.mediaNotification("n-acme", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
					waitFor(t, "CRM record", func() bool { return len(crm.Meetings()) == 1 })
					waitFor(t, "queue to drain", drained(app.DB))
					app.DB.Enqueue(store.TaskRef{Kind: store.TaskCRM, Subject: "nt7Hq2LmZ"})
					time.Sleep(100 * time.Millisecond)
					waitFor(t, "queue to drain", drained(app.DB))
					d, _ := app.DB.CRMDelivery("nt7Hq2LmZ")
					m := crm.Meetings()[0]
					linked := 1
					if create && !v.onLead {
						linked = 2
					}
					if create && (crm.ContactCount() != before+1 || len(d.Unmatched) != 0 || len(m.ContactIDs) != linked) {
						t.Fatalf("create_contacts: %d contacts (was %d), unmatched %v, record contacts %v", crm.ContactCount(), before, d.Unmatched, m.ContactIDs)
					}
					if !create && (crm.ContactCount() != before || fmt.Sprint(d.Unmatched) != "[new@prospect.example]" || len(m.ContactIDs) != 1) {
						t.Fatalf("no create_contacts: %d contacts (was %d), unmatched %v, record contacts %v", crm.ContactCount(), before, d.Unmatched, m.ContactIDs)
					}
				}
			})
		})
	}
}

// The intent is committed before the create is sent: a process killed while
// the create is in flight leaves a record that says "look first".
func TestCRM_IntentCommittedBeforeCreate(t *testing.T) {
	fake := newFakeNylas(t)
	hs := crmVendorNamed("hubspot")
	crm, conn := hs.open(t)
	jo, li, deal := salesMeeting(t, fake, crm, "")
	commit := crm.Knobs().HoldNextCreate()
	defer commit()
	app := openCRMVendorApp(t, fake, conn, nil)
	app.postSigned(t, fake.mediaNotification("n-acme", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
	waitFor(t, "intent", func() bool {
		d, err := app.DB.CRMDelivery("nt7Hq2LmZ")
		return err == nil && !d.Intent.IsZero() && d.RecordID == ""
	})
	if len(crm.Meetings()) != 0 {
		t.Fatal("the held create committed early")
	}
	commit()
	waitFor(t, "record ID", func() bool {
		d, err := app.DB.CRMDelivery("nt7Hq2LmZ")
		return err == nil && d.Intent.IsZero() && d.RecordID != ""
	})
	checkSalesRecord(t, hs, crm, jo, li, deal)
}

func TestCRM_Cases(t *testing.T) {
	cases := []struct {
		name      string
		crmVendor string
		// prior, when set, is a delivery record left by another connector.
		prior *store.CRMDelivery
		seed  bool // seed Jo and Li in the CRM
		check func(t *testing.T, d *store.CRMDelivery, crm crmtest.StandIn)
	}{
		{name: "close: no matched contact, no lead to hold a note: skipped, not failed", crmVendor: "close",
			check: func(t *testing.T, d *store.CRMDelivery, crm crmtest.StandIn) {
				if len(crm.Meetings()) != 0 || !strings.Contains(d.Skipped, "needs a lead") || len(d.Unmatched) != 2 || !d.Intent.IsZero() {
					t.Fatalf("delivery %+v", d)
				}
			}},
		{name: "a record of another connector is not this one's", crmVendor: "hubspot", seed: true,
			prior: &store.CRMDelivery{NotetakerID: "nt7Hq2LmZ", Connector: "rest", RecordID: "m1", Hash: "h"},
			check: func(t *testing.T, d *store.CRMDelivery, crm crmtest.StandIn) {
				if len(crm.Meetings()) != 1 || d.Connector != "hubspot" || d.RecordID != crm.Meetings()[0].ID {
					t.Fatalf("delivery %+v records %d", d, len(crm.Meetings()))
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeNylas(t)
			crm, conn := crmVendorNamed(tc.crmVendor).open(t)
			if tc.seed {
				salesMeeting(t, fake, crm, "")
			} else {
				salesMeeting(t, fake, nopContacts{crm}, "")
			}
			app := openCRMVendorApp(t, fake, conn, nil)
			if tc.prior != nil {
				app.DB.PutCRMDelivery(tc.prior.NotetakerID, tc.prior)
			}
			app.postSigned(t, fake.mediaNotification("n-acme", "nt7Hq2LmZ", "grant-a1b2c3", "available", "mp4", allKinds...))
			app.waitArchived(t, "nt7Hq2LmZ")
			waitFor(t, "delivery", func() bool {
				d, err := app.DB.CRMDelivery("nt7Hq2LmZ")
				return err == nil && (d.Skipped != "" || !d.DeliveredAt.IsZero())
			})
			waitFor(t, "queue to drain", drained(app.DB))
			d, _ := app.DB.CRMDelivery("nt7Hq2LmZ")
			tc.check(t, d, crm)
		})
	}
}

// nopContacts seeds nothing: the CRM knows none of the participants.
type nopContacts struct{ crmtest.StandIn }

func (nopContacts) AddContact(string, string, string) string { return "" }
func (nopContacts) AddDeal(string, string) string            { return "" }

func crmVendorNamed(name string) crmVendor {
	return crmVendors[slices.IndexFunc(crmVendors, func(v crmVendor) bool { return v.name == name })]
}
