package provision_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/provision"
)

func TestPlanOnEmptyAccountListsEverythingAndWritesNothing(t *testing.T) {
	s := account(t)
	p := provisioner(t, s)
	plan, lines := mustPlan(t, p)
	if !plan.Pending() {
		t.Error("Pending() = false on an empty account")
	}
	wantPrefixes := []string{
		"+ calendar grant-sales/primary: add Notetaker rules: bot_name \"Meeting Notetaker\", event_selection [external], participants_gte 2,",
		"+ calendar grant-sales/team-calendar-7: add Notetaker rules: bot_name \"Meeting Notetaker\", event_selection [external own_events],",
		"+ scheduler interviews: create (2 participants, max-fairness, 45 min, page https://book.nylas.com/acme-interviews)",
	}
	if len(lines) != len(wantPrefixes) {
		t.Fatalf("plan lines:\n%s", strings.Join(lines, "\n"))
	}
	for i, want := range wantPrefixes {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d:\n got %s\nwant %s…", i, lines[i], want)
		}
	}
	if w := writes(s); len(w) != 0 {
		t.Errorf("plan wrote to Nylas: %v", w)
	}
	if _, err := os.Stat(filepath.Join(p.DataDir, provision.StateFile)); !os.IsNotExist(err) {
		t.Errorf("plan wrote %s (stat: %v)", provision.StateFile, err)
	}
}

func TestApplyCreatesExactlyWhatIsDeclared(t *testing.T) {
	s := account(t)
	p := provisioner(t, s)
	out := mustApply(t, p)

	if got, want := writes(s), []string{
		"PUT /v3/grants/grant-sales/calendars/primary",
		"PUT /v3/grants/grant-sales/calendars/team-calendar-7",
		"POST /v3/grants/grant-recruiting/scheduling/configurations",
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("writes %v, want %v", got, want)
	}
	for _, r := range s.Writes() {
		var body map[string]any
		json.Unmarshal([]byte(r.Body), &body)
		if _, ok := body["name"]; ok {
			t.Errorf("%s %s sent a name: %s", r.Method, r.Path, r.Body)
		}
		if strings.Contains(r.Path, "/calendars/") && len(body) != 1 {
			t.Errorf("calendar PUT sent more than the notetaker object: %s", r.Body)
		}
	}

	team := s.Calendar(salesGrant, teamCalendar)
	checks := []struct {
		path string
		want any
	}{
		{"notetaker.name", "Meeting Notetaker"},
		{"notetaker.rules.event_selection", []any{"external", "own_events"}},
		{"notetaker.rules.participant_filter.participants_gte", 2.0},
		{"notetaker.rules.participant_filter.participants_lte", 12.0},
		{"notetaker.meeting_settings.leave_after_silence_seconds", 600.0},
		{"notetaker.meeting_settings.summary", true},
		{"name", "Sales rep calendar"}, // the calendar's own name is untouched
	}
	for _, c := range checks {
		if got := at(team, c.path); !reflect.DeepEqual(got, c.want) {
			t.Errorf("team calendar %s = %#v, want %#v", c.path, got, c.want)
		}
	}
	rep := s.Calendar(salesGrant, repCalendar)
	if got := at(rep, "notetaker.meeting_settings.summary_settings.custom_instructions"); got != "Use MEDDPICC headings." {
		t.Errorf("rep summary instructions %#v", got)
	}
	if got := at(rep, "notetaker.rules.participant_filter.participants_lte"); got != nil {
		t.Errorf("participants_lte = 0 was sent as %#v, want no upper bound", got)
	}

	cfgs := s.Configurations(recruitGrant)
	if len(cfgs) != 1 {
		t.Fatalf("%d configurations, want 1", len(cfgs))
	}
	cfg := cfgs[0]
	cfgChecks := []struct {
		path string
		want any
	}{
		{"slug", "acme-interviews"},
		{"requires_session_auth", false},
		{"availability.duration_minutes", 45.0},
		{"availability.availability_rules.availability_method", "max-fairness"},
		{"event_booking.title", "Interview with {{invitee_name}}"},
		{"event_booking.conferencing.provider", "Google Meet"},
		{"scheduler.notetaker_settings.enabled", true},
		{"scheduler.notetaker_settings.notetaker_name", "Interview Recorder"},
		{"scheduler.notetaker_settings.show_ui_consent_message", true},
		{"scheduler.notetaker_settings.meeting_settings.summary_settings.custom_instructions", "Summarise the candidate's answers."},
	}
	for _, c := range cfgChecks {
		if got := at(cfg, c.path); !reflect.DeepEqual(got, c.want) {
			t.Errorf("configuration %s = %#v, want %#v", c.path, got, c.want)
		}
	}
	ps, _ := cfg["participants"].([]any)
	var organizers []string
	for _, x := range ps {
		m := x.(map[string]any)
		if m["is_organizer"] == true {
			organizers = append(organizers, m["email"].(string))
		}
		if !reflect.DeepEqual(at(m, "availability.calendar_ids"), []any{"primary"}) || at(m, "booking.calendar_id") != "primary" {
			t.Errorf("participant %v calendars", m)
		}
	}
	if len(ps) != 2 || !reflect.DeepEqual(organizers, []string{"alice@example.com"}) {
		t.Errorf("participants %v, organizers %v: want 2 with alice the one organizer (round-robin too)", ps, organizers)
	}

	if got := storedIDs(t, p); got["interviews"] != cfg["id"] {
		t.Errorf("stored IDs %v, want interviews → %v", got, cfg["id"])
	}
	fi, err := os.Stat(filepath.Join(p.DataDir, provision.StateFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v (%v), want 0600", fi.Mode(), err)
	}
	for _, want := range []string{
		"+ calendar grant-sales/primary",
		"+ scheduler interviews: created " + cfg["id"].(string),
		"booking page interviews: https://book.nylas.com/acme-interviews",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
}

func TestSecondApplyWritesNothing(t *testing.T) {
	s := account(t)
	p := provisioner(t, s)
	mustApply(t, p)
	before := len(s.Writes())
	out := mustApply(t, p)
	if w := writes(s)[before:]; len(w) != 0 {
		t.Errorf("second apply wrote %v", w)
	}
	if strings.Contains(out, "+ ") || strings.Contains(out, "~ ") {
		t.Errorf("second apply reports changes:\n%s", out)
	}
	plan, lines := mustPlan(t, p)
	if plan.Pending() {
		t.Errorf("plan after apply is pending (defaults Nylas filled in count as drift?):\n%s", strings.Join(lines, "\n"))
	}
	want := []string{"= calendar grant-sales/primary", "= calendar grant-sales/team-calendar-7", "= scheduler interviews"}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("plan lines %q, want %q", lines, want)
	}
}

func TestFreshDataDirFindsConfigurationBySlugOnALaterPage(t *testing.T) {
	s := account(t)
	s.PageSize = 2
	for i := range 5 { // made in the dashboard: our configuration lands on page 3
		s.AddConfiguration(recruitGrant, map[string]any{"slug": fmt.Sprintf("other-%d", i),
			"participants": []any{}, "availability": map[string]any{"duration_minutes": 30},
			"event_booking": map[string]any{"title": "Other"}})
	}
	first := provisioner(t, s)
	mustApply(t, first)
	id := storedIDs(t, first)["interviews"]

	fresh := provisioner(t, s) // a new data dir: no stored ID
	plan, lines := mustPlan(t, fresh)
	if plan.Pending() || len(lines) != 3 || !strings.Contains(lines[2], `found by slug "acme-interviews" as `+id) {
		t.Errorf("plan with a fresh data dir:\n%s", strings.Join(lines, "\n"))
	}
	before := len(s.Writes())
	mustApply(t, fresh)
	if w := writes(s)[before:]; len(w) != 0 {
		t.Errorf("apply with a fresh data dir wrote %v, want nothing (found by slug)", w)
	}
	if n := len(s.Configurations(recruitGrant)); n != 6 {
		t.Errorf("%d configurations, want 6 (none created)", n)
	}
	if got := storedIDs(t, fresh)["interviews"]; got != id {
		t.Errorf("fresh data dir stored %q, want %q", got, id)
	}
	var pages int
	for _, r := range s.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/scheduling/configurations") && strings.Contains(r.Query, "page_token") {
			pages++
		}
	}
	if pages == 0 {
		t.Error("the slug search never asked for a later page")
	}
}

func TestStoredIDWinsOverSlug(t *testing.T) {
	s := account(t)
	p := provisioner(t, s)
	mustApply(t, p)
	id := storedIDs(t, p)["interviews"]
	// The slug changes in the config: the stored ID still names the page.
	p.Schedulers[0].Slug = "acme-hiring"
	plan, lines := mustPlan(t, p)
	if !plan.Pending() || !slices.Contains(lines, `~ scheduler interviews: slug "acme-interviews" → "acme-hiring"`) {
		t.Errorf("plan:\n%s", strings.Join(lines, "\n"))
	}
	mustApply(t, p)
	cfgs := s.Configurations(recruitGrant)
	if len(cfgs) != 1 || cfgs[0]["id"] != id || cfgs[0]["slug"] != "acme-hiring" {
		t.Errorf("configurations %v, want %s renamed to acme-hiring", cfgs, id)
	}
}

func TestDriftIsReportedByPlanAndUndoneByApply(t *testing.T) {
	cases := []struct {
		name     string
		drift    func(s *nylastestServer, cfgID string)
		wantLine string
	}{
		{name: "event selection changed in the dashboard",
			drift: func(s *nylastestServer, _ string) {
				s.SetCalendar(salesGrant, repCalendar, "notetaker.rules.event_selection", []any{"all"})
			},
			wantLine: "~ calendar grant-sales/primary: event_selection [all] → [external]"},
		{name: "silence timeout changed",
			drift: func(s *nylastestServer, _ string) {
				s.SetCalendar(salesGrant, teamCalendar, "notetaker.meeting_settings.leave_after_silence_seconds", 60)
			},
			wantLine: "~ calendar grant-sales/team-calendar-7: leave_after_silence_seconds 60 → 600"},
		{name: "summary switched off",
			drift: func(s *nylastestServer, _ string) {
				s.SetCalendar(salesGrant, repCalendar, "notetaker.meeting_settings.summary", false)
			},
			wantLine: "~ calendar grant-sales/primary: summary false → true"},
		{name: "calendar rules removed",
			drift:    func(s *nylastestServer, _ string) { s.SetCalendar(salesGrant, repCalendar, "notetaker", nil) },
			wantLine: "+ calendar grant-sales/primary: add Notetaker rules"},
		{name: "duration changed in the Scheduler editor",
			drift:    func(s *nylastestServer, id string) { s.SetConfiguration(id, "availability.duration_minutes", 30) },
			wantLine: "~ scheduler interviews: duration_minutes 30 → 45"},
		{name: "method changed",
			drift: func(s *nylastestServer, id string) {
				s.SetConfiguration(id, "availability.availability_rules.availability_method", "collective")
			},
			wantLine: "~ scheduler interviews: availability_method collective → max-fairness"},
		{name: "participant renamed",
			drift: func(s *nylastestServer, id string) {
				s.SetConfiguration(id, "participants", []any{participant("alice@example.com", "Al", true), participant("bob@example.com", "Bob Engineer", false)})
			},
			wantLine: `~ scheduler interviews: participant alice@example.com name "Al" → "Alice Recruiter"`},
		{name: "participant removed",
			drift: func(s *nylastestServer, id string) {
				s.SetConfiguration(id, "participants", []any{participant("alice@example.com", "Alice Recruiter", true)})
			},
			wantLine: "~ scheduler interviews: participants [alice@example.com] → [alice@example.com bob@example.com]"},
		{name: "bot renamed in the editor",
			drift: func(s *nylastestServer, id string) {
				s.SetConfiguration(id, "scheduler.notetaker_settings.notetaker_name", "Recorder")
			},
			wantLine: `~ scheduler interviews: notetaker.name "Recorder" → "Interview Recorder"`},
		{name: "bot switched off",
			drift: func(s *nylastestServer, id string) {
				s.SetConfiguration(id, "scheduler.notetaker_settings.enabled", false)
			},
			wantLine: "~ scheduler interviews: notetaker.enabled false → true"},
		{name: "conferencing removed",
			drift:    func(s *nylastestServer, id string) { s.SetConfiguration(id, "event_booking.conferencing", nil) },
			wantLine: `~ scheduler interviews: conferencing "" → "Google Meet"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := account(t)
			p := provisioner(t, s)
			mustApply(t, p)
			id := storedIDs(t, p)["interviews"]
			// Something the tables do not declare, set in the dashboard: never drift, never lost.
			s.SetConfiguration(id, "event_booking.description", "Bring your portfolio")
			s.SetConfiguration(id, "scheduler.min_cancellation_notice", 120)
			tc.drift(s, id)

			plan, lines := mustPlan(t, p)
			if !plan.Pending() || !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, tc.wantLine) }) {
				t.Fatalf("plan lacks %q:\n%s", tc.wantLine, strings.Join(lines, "\n"))
			}
			if n := len(lines); n != 3 && !strings.HasPrefix(tc.wantLine, "~ scheduler interviews: participants") {
				t.Errorf("plan has %d lines, want only the drift and two unchanged tables:\n%s", n, strings.Join(lines, "\n"))
			}
			before := len(s.Writes())
			mustApply(t, p)
			if w := writes(s)[before:]; len(w) != 1 {
				t.Errorf("apply wrote %v, want one write", w)
			}
			if plan, lines := mustPlan(t, p); plan.Pending() {
				t.Errorf("drift not undone:\n%s", strings.Join(lines, "\n"))
			}
			cfg := s.Configurations(recruitGrant)[0]
			if at(cfg, "event_booking.description") != "Bring your portfolio" || at(cfg, "scheduler.min_cancellation_notice") != 120.0 {
				t.Errorf("apply lost keys it does not manage: %v", cfg)
			}
		})
	}
}

func TestEnabledFalseClearsOneCalendarOnly(t *testing.T) {
	s := account(t)
	p := provisioner(t, s)
	mustApply(t, p)
	p.Calendars[1].Enabled = false

	plan, lines := mustPlan(t, p)
	if !plan.Pending() || !slices.Contains(lines, "- calendar grant-sales/team-calendar-7: remove the Notetaker rules (enabled = false)") {
		t.Fatalf("plan:\n%s", strings.Join(lines, "\n"))
	}
	before := len(s.Writes())
	mustApply(t, p)
	w := s.Writes()[before:]
	if len(w) != 1 || w[0].Method != "PUT" || w[0].Path != "/v3/grants/grant-sales/calendars/team-calendar-7" || w[0].Body != `{"notetaker":null}` {
		t.Fatalf("writes %+v, want one PUT {\"notetaker\":null} to the team calendar", w)
	}
	if nt := s.Calendar(salesGrant, teamCalendar)["notetaker"]; nt != nil {
		t.Errorf("team calendar still has rules: %v", nt)
	}
	if nt := s.Calendar(salesGrant, repCalendar)["notetaker"]; nt == nil {
		t.Error("the rep's calendar lost its rules")
	}
	if n := len(s.Configurations(recruitGrant)); n != 1 {
		t.Errorf("%d configurations", n)
	}
	_, lines = mustPlan(t, p)
	if !slices.Contains(lines, "= calendar grant-sales/team-calendar-7: calendar sync off") {
		t.Errorf("plan after disabling:\n%s", strings.Join(lines, "\n"))
	}
}

func TestApplyFailsNamingTheFieldNylasDidNotTake(t *testing.T) {
	cases := []struct {
		name      string
		ignore    func(s *nylastestServer)
		wantError []string
	}{
		{name: "calendar silence timeout dropped",
			ignore: func(s *nylastestServer) {
				s.IgnoreCalendarField("notetaker.meeting_settings.leave_after_silence_seconds")
			},
			wantError: []string{"calendar grant-sales/team-calendar-7", "Nylas did not take leave_after_silence_seconds (sent 600, Nylas has 300)"}},
		{name: "scheduler bot name dropped",
			ignore: func(s *nylastestServer) {
				s.IgnoreConfigurationField("scheduler.notetaker_settings.notetaker_name")
			},
			wantError: []string{"scheduler interviews", `notetaker.name (sent "Interview Recorder", Nylas has "Nylas Notetaker")`}},
		{name: "round-robin organizer dropped",
			ignore:    func(s *nylastestServer) { s.IgnoreConfigurationField("participants") },
			wantError: []string{"scheduler interviews", "participants (sent [alice@example.com bob@example.com], Nylas has [])"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := account(t)
			tc.ignore(s)
			p := provisioner(t, s)
			err := p.Apply(context.Background(), &strings.Builder{})
			if err == nil {
				t.Fatal("apply succeeded")
			}
			for _, want := range tc.wantError {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestCreateWithALostAnswerIsNotRepeated(t *testing.T) {
	s := account(t)
	s.DropAnswer(func(method, path string) bool {
		return method == "POST" && strings.HasSuffix(path, "/scheduling/configurations")
	})
	p := provisioner(t, s)
	mustApply(t, p) // the create's answer is lost; apply finds it by slug
	cfgs := s.Configurations(recruitGrant)
	if len(cfgs) != 1 {
		t.Fatalf("%d configurations after a lost answer, want 1", len(cfgs))
	}
	if got := storedIDs(t, p)["interviews"]; got != cfgs[0]["id"] {
		t.Errorf("stored %q, want %v", got, cfgs[0]["id"])
	}
	s.DropAnswer(nil)
	before := len(s.Writes())
	mustApply(t, p)
	if w := writes(s)[before:]; len(w) != 0 {
		t.Errorf("apply after the lost answer wrote %v", w)
	}
}

func TestPrivateConfigurationWithALostAnswerSaysSo(t *testing.T) {
	s := account(t)
	s.DropAnswer(func(method, path string) bool {
		return method == "POST" && strings.HasSuffix(path, "/scheduling/configurations")
	})
	p := provisioner(t, s)
	p.Schedulers[0].Slug = ""
	err := p.Apply(context.Background(), &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "no slug to look for it by") {
		t.Errorf("apply error %v, want one saying the create may have happened", err)
	}
	if n := len(s.Configurations(recruitGrant)); n != 1 {
		t.Errorf("%d configurations, want the 1 the lost answer was about", n)
	}
}

func TestPlanErrors(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(p *provisionerT)
		wantErr string
	}{
		{name: "unknown calendar", edit: func(p *provisionerT) { p.Calendars[0].CalendarID = "nope" },
			wantErr: "calendar grant-sales/nope: get calendar"},
		{name: "wrong API key", edit: func(p *provisionerT) { p.Nylas.APIKey = "wrong" },
			wantErr: "401"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := account(t)
			p := provisioner(t, s)
			tc.edit(p)
			_, err := p.Plan(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("plan error %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(fmt.Sprint(err), apiKey) {
				t.Error("error carries the API key")
			}
		})
	}
}

func participant(email, name string, organizer bool) map[string]any {
	return map[string]any{"email": email, "name": name, "is_organizer": organizer,
		"availability": map[string]any{"calendar_ids": []any{"primary"}}, "booking": map[string]any{"calendar_id": "primary"}}
}
