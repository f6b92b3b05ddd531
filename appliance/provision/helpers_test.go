package provision_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/nylas/nylastest"
	"github.com/notekeeper/notekeeper/appliance/provision"
)

const apiKey = "nyk_v0_provision_test"

// The account every test starts from: a sales grant with two calendars
// and a recruiting grant, no rules and no configuration.
const (
	salesGrant   = "grant-sales"
	recruitGrant = "grant-recruiting"
	repCalendar  = "rep@example.com"
	teamCalendar = "team-calendar-7"
)

// account is a stand-in holding that account.
func account(t *testing.T) *nylastest.Server {
	t.Helper()
	s := nylastest.New(t, apiKey)
	s.AddGrant(salesGrant, "rep@example.com", "google")
	s.AddGrant(recruitGrant, "recruiting@example.com", "google")
	s.AddCalendar(salesGrant, repCalendar, true)
	s.AddCalendar(salesGrant, teamCalendar, false)
	s.AddCalendar(recruitGrant, "recruiting@example.com", true)
	return s
}

// client is a client of s whose retries do not wait long.
func client(s *nylastest.Server) *nylas.Client {
	c := nylas.New(s.URL, apiKey)
	c.BackoffBase, c.BackoffMax = time.Millisecond, 5*time.Millisecond
	c.HTTP = &http.Client{Timeout: 2 * time.Second}
	return c
}

// declared is the config every test declares: the rep's primary calendar
// and the team calendar with rules, one round-robin interview page.
func declared() ([]provision.Calendar, []provision.Scheduler) {
	rep := provision.DefaultCalendar(salesGrant)
	rep.SummaryInstructions = "Use MEDDPICC headings."
	team := provision.DefaultCalendar(salesGrant)
	team.CalendarID = teamCalendar
	team.EventSelection = []string{"external", "own_events"}
	team.ParticipantsLTE = 12
	team.LeaveAfterSilenceSeconds = 600

	iv := provision.DefaultScheduler("interviews", recruitGrant)
	iv.Slug = "acme-interviews"
	iv.Conferencing = "Google Meet"
	iv.Participants = []provision.Participant{
		{Name: "Alice Recruiter", Email: "alice@example.com", Organizer: true, CalendarID: "primary"},
		{Name: "Bob Engineer", Email: "bob@example.com", CalendarID: "primary"},
	}
	iv.Notetaker.Enabled = true
	iv.Notetaker.SummaryInstructions = "Summarise the candidate's answers."
	return []provision.Calendar{rep, team}, []provision.Scheduler{iv}
}

// provisioner declares the usual tables against s with its own data dir.
func provisioner(t *testing.T, s *nylastest.Server) *provision.Provisioner {
	t.Helper()
	cals, scheds := declared()
	return &provision.Provisioner{Nylas: client(s), DataDir: t.TempDir(), Calendars: cals, Schedulers: scheds}
}

// mustPlan plans and returns the plan's lines.
func mustPlan(t *testing.T, p *provision.Provisioner) (*provision.Plan, []string) {
	t.Helper()
	plan, err := p.Plan(context.Background())
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return plan, plan.Lines()
}

// mustApply applies and returns what it printed.
func mustApply(t *testing.T, p *provision.Provisioner) string {
	t.Helper()
	var out bytes.Buffer
	if err := p.Apply(context.Background(), &out); err != nil {
		t.Fatalf("apply: %v\noutput:\n%s", err, out.String())
	}
	return out.String()
}

// storedIDs reads the configuration IDs p's StateFile holds, by name.
func storedIDs(t *testing.T, p *provision.Provisioner) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.DataDir, provision.StateFile))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Configurations map[string]struct {
			ID string `json:"id"`
		} `json:"configurations"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range st.Configurations {
		out[k] = v.ID
	}
	return out
}

// at reads a dotted path of a JSON object from the stand-in.
func at(obj map[string]any, path string) any {
	var v any = obj
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// writes summarises the stand-in's writes as "METHOD path" lines.
func writes(s *nylastest.Server) []string {
	var out []string
	for _, r := range s.Writes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// Short names for the table tests.
type (
	nylastestServer = nylastest.Server
	provisionerT    = provision.Provisioner
)
