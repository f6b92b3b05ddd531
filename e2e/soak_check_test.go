package e2e

// The soak's invariants, checked once the appliance has drained and
// stopped. Each breach is reported with the seed.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

// soakGoroutineSlack is how many goroutines the idle appliance may have at
// the end beyond the idle baseline read at its first start. Its workers,
// jobs and listeners are fixed in number; every request, download and task
// ends its goroutines. A leak of one per notification, task or connection
// would add thousands over a soak; 60 leaves room for the runtime's own
// and for connections still closing.
const soakGoroutineSlack = 60

// soakMaxRSS bounds the resident memory at any sample: the working set is
// small media (under 200 KiB each) and a bbolt file of a few MiB, so 512 MiB
// means memory grows without bound.
const soakMaxRSS = 512 << 20

// soakReport is what the checks found.
type soakReport struct {
	checked    []string
	breaches   int
	files      int
	crmRecords int
	interviews int
	alerts     map[string]int // by kind, distinct
	dead       []string
}

// check runs every invariant.
func (s *soak) check(tasks []store.Task, final soakSample) *soakReport {
	rep := &soakReport{alerts: map[string]int{}}
	breach := func(format string, args ...any) {
		s.t.Helper()
		rep.breaches++
		s.failf(format, args...)
	}
	inv := func(name string) { rep.checked = append(rep.checked, name) }

	s.mu.Lock()
	acked := make(map[string]bool, len(s.acked))
	for id := range s.acked {
		acked[id] = true
	}
	s.mu.Unlock()
	ackedStep := func(m *soakMeeting, state string) bool {
		for _, st := range m.steps(s.storage) {
			if st.State == state && acked[st.ID] {
				return true
			}
		}
		return false
	}
	if n := s.unacked.Load(); n > 0 {
		breach("%d notifications never acknowledged before the hard stop", n)
	}

	// Alerts: distinct by Idempotency-Key (one per raised alert and sink;
	// a redelivery after a kill repeats the key).
	alerts := s.alerts.received()
	type group struct{ times []time.Time }
	groups := map[string]*group{}
	seenKey := map[string]bool{}
	redelivered := 0
	for _, a := range alerts {
		if seenKey[a.Key] {
			redelivered++
			continue
		}
		seenKey[a.Key] = true
		rep.alerts[a.Kind]++
		at, err := time.Parse(time.RFC3339, a.Time)
		if err != nil {
			breach("alert %s/%s: time %q: %v", a.Kind, a.Subject, a.Time, err)
		}
		k := a.Kind + " " + a.Subject
		if groups[k] == nil {
			groups[k] = &group{}
		}
		groups[k].times = append(groups[k].times, at)
	}
	alerted := func(kind, subject string) int {
		if g := groups[kind+" "+subject]; g != nil {
			return len(g.times)
		}
		return 0
	}
	inv("one alert per kind and subject per hour")
	for k, g := range groups {
		sort.Slice(g.times, func(i, j int) bool { return g.times[i].Before(g.times[j]) })
		for i := 1; i < len(g.times); i++ {
			if g.times[i].Sub(g.times[i-1]) < store.AlertWindow {
				breach("alert %q raised %d times within an hour", k, len(g.times))
				break
			}
		}
	}

	// The queue: nothing live, nothing leased; every dead letter alerted.
	inv("no task live or stuck in a lease after the drain")
	inv("every dead letter alerted exactly once (delivery.failed / archive.failed)")
	dead := map[string]bool{}
	for _, t := range tasks {
		if !t.Dead || !t.LeaseUntil.IsZero() {
			breach("task %s not finished: dead=%v lease_until=%s attempts=%d error=%q", t.Key(), t.Dead, t.LeaseUntil, t.Attempts, t.LastError)
			continue
		}
		dead[t.Key()] = true
		rep.dead = append(rep.dead, t.Key())
		kind := "delivery.failed"
		switch t.Kind {
		case store.TaskAlert:
			breach("alert task %s dead-lettered, yet the sink never fails: %s", t.Key(), t.LastError)
			continue
		case "archive":
			kind = "archive.failed"
		}
		if n := alerted(kind, t.Subject); n != 1 {
			breach("dead letter %s (%s) alerted %d times as %s, want 1", t.Key(), t.LastError, n, kind)
		}
	}

	// Acknowledged notifications are in the store; the store is consistent.
	inv("every acknowledged notification stored")
	inv("bbolt consistency check")
	db := storetest.MustOpenAt(s.t, filepath.Join(s.dataDir, "notekeeper.db"))
	if err := db.Check(); err != nil {
		breach("bbolt check: %v", err)
	}
	for id := range acked {
		if _, err := db.NotificationSeq(id); err != nil {
			breach("acknowledged notification %s not in the store: %v", id, err)
		}
	}

	// Archives, files, CRM, ATS, expected alerts, per meeting.
	inv("every acknowledged (or never delivered) available meeting archived with the source's sha256")
	inv("doomed meetings alerted archive.at_risk or archive.failed; no at_risk for others")
	inv("no torn file under a final name; hidden partials only")
	inv("one CRM record per sales meeting; none for interviews; the 400 meeting dead-lettered")
	inv("one ATS interview per booking, in its final state; one recording per interview")
	inv("failed_entry and grant.expired alerted once; media_error at most once")
	crmCreates := s.crmCreates()
	for _, v := range crmCreates {
		rep.crmRecords += v
	}
	s.ats.mu.Lock()
	atsCreates, atsRecordings, interviews := map[string]int{}, map[string]int{}, map[string]soakInterview{}
	for k, v := range s.ats.creates {
		atsCreates[k] = v
		rep.interviews += v
	}
	for k, v := range s.ats.recordings {
		atsRecordings[k] = v
	}
	for k, v := range s.ats.interviews {
		interviews[k] = *v
	}
	s.ats.mu.Unlock()

	for _, m := range s.world.all() {
		available := ackedStep(m, "available")
		if m.archives() && (available || m.Missed) {
			rep.files += s.checkArchive(m, db, breach)
		}
		if !m.archives() {
			if n := s.filesOf(m); n > 0 {
				breach("%s (%s) has %d archived files, yet its media was never available", m.ID, m.Kind, n)
			}
		}
		switch {
		case m.Kind == kindDoomed && (available || ackedStep(m, "media_deleted")):
			if alerted("archive.at_risk", m.ID)+alerted("archive.failed", m.ID) == 0 {
				breach("%s: Nylas' deletion date passed before it was archived, and no archive.at_risk or archive.failed was raised", m.ID)
			}
		case !m.Near && m.Kind != kindDoomed && alerted("archive.at_risk", m.ID) > 0:
			breach("%s (%s, deleted by Nylas in 14 days) raised archive.at_risk", m.ID, m.Kind)
		}
		if m.Kind == kindFailedEntry && ackedStep(m, "failed_entry") && alerted("notetaker.failed_entry", m.ID) != 1 {
			breach("%s: bot stuck in the lobby alerted %d times, want 1", m.ID, alerted("notetaker.failed_entry", m.ID))
		}
		// A media error is alerted when the appliance sees it as the
		// meeting's state; when the available notification that follows it
		// is merged in the same pass, the error is over before it is seen
		// and no alert is right. Never more than one.
		if n := alerted("notetaker.media_error", m.ID); n > 1 || (n == 1 && m.Kind != kindMediaError) {
			breach("%s (%s): media error alerted %d times", m.ID, m.Kind, n)
		}

		// CRM.
		crmKey := "crm/" + m.ID
		switch {
		case m.Reject && available:
			if crmCreates[m.ID] != 0 || !dead[crmKey] {
				breach("%s: the CRM answers 400 for ever; want no record and a dead letter, got %d records, dead=%v", m.ID, crmCreates[m.ID], dead[crmKey])
			}
		case m.crm() && (available || m.Missed):
			if n := crmCreates[m.ID]; n != 1 && !(n == 0 && dead[crmKey]) {
				breach("%s: %d CRM records, want exactly 1", m.ID, n)
			}
		default:
			if n := crmCreates[m.ID]; n != 0 {
				breach("%s (%s): %d CRM records, want none", m.ID, m.Kind, n)
			}
		}

		// ATS.
		if m.BookingID != "" && (ackedStep(m, "created") || ackedStep(m, "cancelled")) {
			atsKey := "ats/" + m.BookingID
			iv, ok := interviews[m.BookingID]
			switch n := atsCreates[m.BookingID]; {
			case n == 0 && dead[atsKey]:
			case n != 1:
				breach("booking %s: %d ATS interviews created, want exactly 1", m.BookingID, n)
			case m.Kind == kindCancelled && ackedStep(m, "cancelled") && iv.Status != "cancelled" && !dead[atsKey]:
				breach("booking %s: cancelled, the ATS says %q", m.BookingID, iv.Status)
			case ok && m.Kind == kindInterview && iv.Start != m.Start.UTC().Format(time.RFC3339) && !dead[atsKey]:
				breach("booking %s: ATS start %s, want %s", m.BookingID, iv.Start, m.Start.UTC().Format(time.RFC3339))
			}
			if m.Kind == kindInterview && (available || m.Missed) {
				if n := atsRecordings[m.ID]; n != 1 && !(n == 0 && dead["ats_recording/"+m.ID]) {
					breach("%s: %d ATS recordings, want exactly 1", m.ID, n)
				}
			}
		}
	}
	for _, st := range s.grants {
		if st.Type == "grant.expired" && acked[st.ID] && alerted("grant.expired", st.State) != 1 {
			breach("grant %s expired: alerted %d times, want 1", st.State, alerted("grant.expired", st.State))
		}
	}
	s.checkTorn(breach)

	// Goroutines and RSS.
	inv(fmt.Sprintf("goroutines at idle within %d of the first start's; RSS under %d MiB", soakGoroutineSlack, soakMaxRSS>>20))
	if final.Goroutines > s.baseline.Goroutines+soakGoroutineSlack {
		breach("goroutines at the end %.0f, at the first start %.0f: a leak", final.Goroutines, s.baseline.Goroutines)
	}
	s.mu.Lock()
	for _, v := range s.samples {
		if v.RSS > soakMaxRSS {
			breach("RSS %.0f MiB at %s", v.RSS/(1<<20), v.At.Round(time.Second))
			break
		}
	}
	s.mu.Unlock()
	s.t.Logf("soak seed %d: %d alerts redelivered after a kill (same Idempotency-Key)", s.seed, redelivered)
	return rep
}

// checkArchive checks that m's media is archived whole: the manifest lists
// each file with the source's size and sha256, the file on disk matches,
// and the store says the archive is done. It returns the files checked.
func (s *soak) checkArchive(m *soakMeeting, db *store.DB, breach func(string, ...any)) int {
	dir := filepath.Join(s.dataDir, "media", m.ID)
	man, err := archive.ReadManifest(dir)
	if err != nil {
		breach("%s (%s, missed=%v): no manifest: %v", m.ID, m.Kind, m.Missed, err)
		return 0
	}
	n := 0
	for _, f := range m.Files {
		var name string
		var e archive.FileEntry
		for nm, fe := range man.Files {
			if strings.TrimSuffix(nm, filepath.Ext(nm)) == f.Kind {
				name, e = nm, fe
			}
		}
		if name == "" {
			breach("%s: %s not archived", m.ID, f.Kind)
			continue
		}
		if e.SHA256 != f.SHA256 || e.Bytes != int64(len(f.Data)) {
			breach("%s: manifest has %s as %d bytes sha256 %s, the source served %d bytes sha256 %s", m.ID, name, e.Bytes, e.SHA256, len(f.Data), f.SHA256)
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			breach("%s: %v", m.ID, err)
			continue
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f.SHA256 {
			breach("%s: %s on disk differs from the source", m.ID, name)
		}
		n++
	}
	nt, err := db.Notetaker(m.ID)
	if err != nil || !nt.ArchiveDone {
		breach("%s: the store does not say its archive is done (%v)", m.ID, err)
	}
	return n
}

// filesOf counts the visible files in m's media folder.
func (s *soak) filesOf(m *soakMeeting) int {
	entries, _ := os.ReadDir(filepath.Join(s.dataDir, "media", m.ID))
	n := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}

// checkTorn walks every meeting folder: each visible file is the manifest,
// transcript.txt (rendered from the archived transcript) or a file the
// manifest lists at its size and sha256; hidden files are only partial
// downloads (.{name}.partial) and atomic-write temporaries (.{name}.tmp-*)
// a kill left behind.
func (s *soak) checkTorn(breach func(string, ...any)) {
	dirs, err := os.ReadDir(filepath.Join(s.dataDir, "media"))
	if errors.Is(err, os.ErrNotExist) {
		return
	} else if err != nil {
		breach("media dir: %v", err)
		return
	}
	hidden := 0
	for _, d := range dirs {
		dir := filepath.Join(s.dataDir, "media", d.Name())
		man, err := archive.ReadManifest(dir)
		if errors.Is(err, archive.ErrNoManifest) {
			man = &archive.Manifest{}
		} else if err != nil {
			breach("%s: manifest: %v", d.Name(), err)
			continue
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			name := e.Name()
			switch {
			case strings.HasPrefix(name, "."):
				if !strings.HasSuffix(name, ".partial") && !strings.Contains(name, ".tmp-") {
					breach("%s: unexpected hidden file %s", d.Name(), name)
				}
				hidden++
			case name == archive.ManifestName:
			case name == "transcript.txt":
				if _, ok := man.Files["transcript.json"]; !ok {
					breach("%s: transcript.txt without an archived transcript", d.Name())
				}
			default:
				fe, ok := man.Files[name]
				if !ok {
					breach("%s: %s under a final name but not in the manifest", d.Name(), name)
					continue
				}
				data, err := os.ReadFile(filepath.Join(dir, name))
				sum := sha256.Sum256(data)
				if err != nil || int64(len(data)) != fe.Bytes || hex.EncodeToString(sum[:]) != fe.SHA256 {
					breach("%s: %s is torn: %d bytes on disk, the manifest says %d", d.Name(), name, len(data), fe.Bytes)
				}
			}
		}
	}
	s.t.Logf("soak seed %d: %d meeting folders, %d hidden partial/temporary files left by kills", s.seed, len(dirs), hidden)
}
