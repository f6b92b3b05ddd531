package demo

// World: the stand-ins a demo runs beside the appliance, what it waits for
// and what it prints.

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/crm/crmtest"
	"github.com/notekeeper/notekeeper/store"
)

// World is everything `notekeeper demo` runs beside the appliance: the
// Nylas simulator, the CRM (the REST stand-in, or with HubSpot set the
// HubSpot API stand-in the real connector writes to), the ATS and the alert
// sink, with their API keys.
type World struct {
	Sim     *Simulator
	CRM     *CRM
	ATS     *ATS
	Sink    *AlertSink
	HubSpot *crmtest.HubSpot

	APIKey, CRMKey, ATSKey string
}

// NewWorld returns the stand-ins with fresh keys (with hubspot, also the
// HubSpot stand-in, already listening); nothing else listens before Open.
func NewWorld(hubspot bool) *World {
	w := &World{APIKey: "demo-nylas-" + rand.Text(), CRMKey: "demo-crm-" + rand.Text(), ATSKey: "demo-ats-" + rand.Text()}
	w.Sim = NewSimulator(w.APIKey, Sales(), Interview(), Lobby())
	w.CRM, w.ATS, w.Sink = NewCRM(w.CRMKey), NewATS(w.ATSKey), NewAlertSink()
	if hubspot {
		w.HubSpot = NewHubSpot()
	}
	return w
}

// Open starts the simulator and the stand-ins.
func (w *World) Open() error {
	for _, s := range []interface{ Open() error }{w.Sim, w.CRM, w.ATS, w.Sink} {
		if err := s.Open(); err != nil {
			return err
		}
	}
	return nil
}

// Close stops everything Open started.
func (w *World) Close() error {
	var errs []error
	for _, s := range []interface{ Close() error }{w.Sim, w.CRM, w.ATS, w.Sink} {
		errs = append(errs, s.Close())
	}
	if w.HubSpot != nil {
		w.HubSpot.Close()
	}
	return errors.Join(errs...)
}

// Report is what World.Report tells beside the stand-ins' records.
type Report struct {
	URL, WebhookPath string // the appliance
	DataDir          string
	Kept             bool // the data dir stays at exit
	// Once: the appliance and the stand-ins stop right after the report, so
	// it names no URL of theirs (see World.Report).
	Once           bool
	Steps          []Step
	NylasSide      string // what nylas plan, apply and plan printed
	User, Password string // the admin UI's throw-away login
}

// Missing lists what the script should have caused in the appliance over
// db and in the stand-ins, and has not yet; nothing once the queue is empty.
func (w *World) Missing(db *store.DB) []string {
	var out []string
	for _, m := range []*Meeting{Sales(), Interview()} {
		nt, err := db.Notetaker(m.NotetakerID)
		if err != nil || !nt.ArchiveDone {
			msg := "the " + m.Scenario + " (" + m.NotetakerID + ") archived"
			if err == nil && nt.ArchiveError != "" {
				msg += " (last error: " + nt.ArchiveError + ")"
			}
			out = append(out, msg)
		}
	}
	want := []struct {
		what   string
		method string
		path   string
		reqs   []Request
	}{
		{"the ATS interview", "POST", "/api/interviews", w.ATS.Requests()},
		{"the ATS interview recording", "POST", "/api/interview-recordings", w.ATS.Requests()},
	}
	if w.HubSpot == nil {
		want = append(want, struct {
			what, method, path string
			reqs               []Request
		}{"the CRM meeting record", "POST", "/api/meetings", w.CRM.Requests()})
	} else if len(w.HubSpot.Meetings()) != 1 || len(w.HubSpot.Tasks()) != len(Sales().ActionItems) {
		out = append(out, "the HubSpot meeting and its tasks")
	}
	for _, wt := range want {
		if !slices.ContainsFunc(wt.reqs, func(r Request) bool { return r.Method == wt.method && r.Path == wt.path && r.Status < 300 }) {
			out = append(out, wt.what+" ("+wt.method+" "+wt.path+")")
		}
	}
	if n := len(w.Sim.Provisioning.Messages()); n < 2 {
		out = append(out, fmt.Sprintf("the follow-up e-mails of both archived meetings (%d sent)", n))
	}
	lobby := Lobby().NotetakerID
	if !slices.ContainsFunc(w.Sink.Alerts(), func(a Alert) bool { return a.Kind == string(store.AlertFailedEntry) && a.Subject == lobby }) {
		out = append(out, "the notetaker.failed_entry alert about "+lobby)
	}
	if len(out) == 0 {
		// Everything arrived; let the queue finish (nothing left, nothing dead).
		tasks, err := db.Tasks()
		if err != nil {
			return []string{err.Error()}
		}
		for _, t := range tasks {
			out = append(out, "task "+t.Key()+" to finish"+taskNote(t))
		}
	}
	return out
}

// taskNote says why a task is still there.
func taskNote(t *store.Task) string {
	switch {
	case t.Dead:
		return " (dead-lettered: " + t.LastError + ")"
	case t.LastError != "":
		return " (last error: " + t.LastError + ")"
	}
	return ""
}

// Await polls missing until it returns nothing or ctx ends (after timeout,
// which the error names with what is still missing).
func Await(ctx context.Context, timeout time.Duration, missing func() []string) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		left := missing()
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %v still waiting for: %s", timeout, strings.Join(left, "; "))
		case <-tick.C:
		}
	}
}

// Report prints what happened: where everything listens, the notifications
// sent, what was archived (from each manifest.json), what the stand-ins
// received and hold, the follow-ups, the Nylas side, the alerts and the
// admin UI's throw-away login. With rep.Once the appliance and the
// stand-ins stop right after it, so it names no URL of theirs: the
// components are listed without addresses, the appliance's address in the
// requests the stand-ins received reads {public_url}, and the admin UI line
// says how to get one that answers.
func (w *World) Report(out io.Writer, rep Report) error {
	removed := "removed at exit; -keep-data keeps it"
	if rep.Kept {
		removed = "kept"
	}
	fmt.Fprintf(out, "notekeeper demo: the whole pipeline on this machine, no Nylas account, nothing leaves 127.0.0.1\n\n")
	crm := "CRM"
	if w.HubSpot != nil {
		crm = "HubSpot"
	}
	if rep.Once {
		fmt.Fprintf(out, "  ran on 127.0.0.1, stopped after this report (-once): the appliance (webhook %s), a Nylas simulator\n", rep.WebhookPath)
		fmt.Fprintf(out, "  (API and signed, expiring media links), %s and ATS stand-ins and an alert webhook\n", crm)
	} else {
		fmt.Fprintf(out, "  appliance        %s (webhook %s)\n", rep.URL, rep.WebhookPath)
		fmt.Fprintf(out, "  Nylas simulator  %s (API and signed, expiring media links)\n", w.Sim.URL())
		if w.HubSpot != nil {
			fmt.Fprintf(out, "  CRM stand-in     %s (HubSpot API: private-app token, search lag, 409s; the real HubSpot connector writes to it)\n", w.HubSpot.URL())
		} else {
			fmt.Fprintf(out, "  CRM stand-in     %s\n", w.CRM.URL())
		}
		fmt.Fprintf(out, "  ATS stand-in     %s\n", w.ATS.URL())
		fmt.Fprintf(out, "  alert webhook    %s\n", w.Sink.URL())
	}
	fmt.Fprintf(out, "  data dir         %s (%s; the appliance logs to notekeeper.log there)\n", rep.DataDir, removed)

	fmt.Fprintf(out, "\nSent %d notifications signed with X-Nylas-Signature; each answered 200 once stored:\n", len(rep.Steps))
	for _, s := range rep.Steps {
		fmt.Fprintf(out, "  %-23s %-24s %s\n", s.Scenario, s.Type, s.ID)
	}

	fmt.Fprintf(out, "\nArchived (from each manifest.json):\n")
	for _, m := range []*Meeting{Sales(), Interview()} {
		dir, err := archive.MediaDir(rep.DataDir, m.NotetakerID)
		if err != nil {
			return err
		}
		man, err := archive.ReadManifest(dir)
		if err != nil {
			return fmt.Errorf("%s: %w", m.NotetakerID, err)
		}
		fmt.Fprintf(out, "  %s  %s %q, kept by Nylas until %s\n", m.NotetakerID, m.Scenario, m.Title, man.DeletesAt.Format(time.RFC3339))
		names := make([]string, 0, len(man.Files))
		for name := range man.Files {
			names = append(names, name)
		}
		slices.SortFunc(names, func(a, b string) int { return cmp.Compare(kindIndex(a), kindIndex(b)) })
		for _, name := range names {
			f := man.Files[name]
			fmt.Fprintf(out, "    %-18s %8d B  sha256 %s\n", name, f.Bytes, f.SHA256)
		}
	}
	st := w.Sim.Stats()
	fmt.Fprintf(out, "  Storage served %d files and refused %d expired link(s) with 403; notekeeper asked the media endpoint for fresh links %d time(s).\n",
		st.Served, st.Refused, st.Refreshes)

	sinks := []struct {
		name string
		reqs []Request
	}{{"CRM", w.CRM.Requests()}, {"ATS", w.ATS.Requests()}}
	if w.HubSpot != nil {
		sinks = sinks[1:]
		fmt.Fprintf(out, "\nHubSpot received:\n")
		for _, r := range w.HubSpot.Knobs().Seen() {
			body := r.Body
			if rep.Once {
				body = strings.ReplaceAll(body, rep.URL, "{public_url}")
			}
			fmt.Fprintf(out, "  %s\n", Request{Method: r.Method, Path: r.URL, Body: []byte(body)}.Short(150))
		}
		fmt.Fprintf(out, "\nHubSpot holds:\n")
		for _, m := range w.HubSpot.Meetings() {
			fmt.Fprintf(out, "  meeting %s %q marker %s, contacts %v, deal %s, company %s\n", m.ID, m.Title, m.Marker, m.ContactIDs, m.DealID, m.CompanyID)
		}
		for _, tk := range w.HubSpot.Tasks() {
			fmt.Fprintf(out, "  task %s %q, contacts %v\n", tk.ID, tk.Title, tk.ContactIDs)
		}
	}
	for _, si := range sinks {
		fmt.Fprintf(out, "\n%s received:\n", si.name)
		for _, r := range si.reqs {
			if rep.Once {
				r.Body = []byte(strings.ReplaceAll(string(r.Body), rep.URL, "{public_url}"))
			}
			fmt.Fprintf(out, "  %s → %d\n", r.Short(150), r.Status)
		}
	}
	fmt.Fprintf(out, "\nFollow-up e-mails ([followup]; messages/send, kept by the simulator):\n")
	for _, m := range w.Sim.Provisioning.Messages() {
		var to []string
		for _, a := range m.Body["to"].([]any) {
			to = append(to, fmt.Sprint(a.(map[string]any)["email"]))
		}
		fmt.Fprintf(out, "  %q to %s (Idempotency-Key %s)\n", m.Body["subject"], strings.Join(to, ", "), m.IdempotencyKey)
	}
	fmt.Fprintf(out, "\nThe Nylas side ([[calendar]] and [[scheduler]] in the config):\n%s", rep.NylasSide)
	fmt.Fprintf(out, "\nAlerts received:\n")
	for _, a := range w.Sink.Alerts() {
		fmt.Fprintf(out, "  %s %s: %s\n", a.Kind, a.Subject, a.Message)
	}
	if rep.Once {
		fmt.Fprintf(out, "\nAdmin UI: none, the appliance has stopped (-once); run `notekeeper demo` without -once to browse it with a throw-away user and password\n")
		return nil
	}
	fmt.Fprintf(out, "\nAdmin UI: %s/admin/  user: %s  password: %s  (throw-away, this run only)\n",
		rep.URL, rep.User, rep.Password)
	return nil
}

// kindIndex orders archived file names in the order of archive.Kinds.
func kindIndex(name string) int {
	i := slices.Index(archive.Kinds, strings.TrimSuffix(name, filepath.Ext(name)))
	if i < 0 {
		return len(archive.Kinds)
	}
	return i
}

// LogTail writes the last lines of the appliance's log at path, to explain a
// failure.
func LogTail(w io.Writer, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	fmt.Fprintln(w, "last lines of the appliance's log:")
	for _, l := range lines[max(0, len(lines)-20):] {
		fmt.Fprintln(w, "  "+l)
	}
}

// NewHubSpot starts the HubSpot stand-in of `demo -crm hubspot`, knowing
// the sales meeting's external participants, the first with an open deal.
func NewHubSpot() *crmtest.HubSpot {
	hs := crmtest.NewHubSpot("pat-demo-" + rand.Text())
	first := true
	for _, p := range Sales().Participants {
		if strings.HasSuffix(p.Email, "@"+InternalDomain) {
			continue
		}
		id := hs.AddContact(p.Email, p.Name, "Acme")
		if first {
			hs.AddDeal(id, "Acme renewal")
			first = false
		}
	}
	return hs
}
