package ops

// What the operator commands print: the status for a person, one line per
// notification and per task, search hits, and the -since flag they share.

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/appliance/status"
	"github.com/notekeeper/notekeeper/store"
)

// PrintStatus writes st for a person.
func PrintStatus(w io.Writer, st *status.Status) {
	line := func(k, format string, a ...any) { fmt.Fprintf(w, "%-12s %s\n", k, fmt.Sprintf(format, a...)) }
	if st.Daemon {
		line("daemon", "running since %s, %s", st.StartedAt.UTC().Format(time.RFC3339), st.URL)
		ready := "yes"
		for _, ch := range st.Checks {
			if !ch.OK {
				ready = "no"
				line("check", "%s: %s", ch.Name, ch.Error)
			}
		}
		line("ready", "%s", ready)
	} else {
		line("daemon", "not running (read from the store)")
	}
	line("version", "%s", st.Version)
	line("data dir", "%s", st.DataDir)
	if st.Domain != "" {
		exp := "none yet"
		if !st.CertificateExpiry.IsZero() {
			exp = "expires " + st.CertificateExpiry.UTC().Format(time.RFC3339)
		}
		line("certificate", "%s: %s", st.Domain, exp)
	}
	line("disk free", "%s", datadir.FormatBytes(st.DiskFreeBytes))
	if st.Webhook.Status != "" {
		line("webhook", "%s %s (checked %s)", st.Webhook.ID, st.Webhook.Status, st.Webhook.CheckedAt.UTC().Format(time.RFC3339))
	} else {
		line("webhook", "not checked yet")
	}
	n := st.Counts
	line("stored", "%d notifications, %d quarantined, %d notetakers, %d bookings, %d grants, %d alerts",
		n.Notifications, n.Quarantined, n.Notetakers, n.Bookings, n.Grants, n.Alerts)
	line("tasks", "%d live, %d dead-lettered", n.TasksLive, n.TasksDead)
	for _, j := range st.Jobs {
		last := "not run yet"
		if !j.Started.IsZero() {
			last = "last " + j.Started.UTC().Format(time.RFC3339)
			if j.Error != "" {
				last += " failed: " + j.Error
			}
		}
		line("job", "%-17s %s, next %s", j.Name, last, j.Next.UTC().Format(time.RFC3339))
	}
}

var daysRE = regexp.MustCompile(`^([0-9]+)d$`)

// SinceFlag is a -since flag: ParseSince at the time flags are parsed.
type SinceFlag struct{ T time.Time }

func (f *SinceFlag) String() string {
	if f == nil || f.T.IsZero() {
		return ""
	}
	return f.T.Format(time.RFC3339)
}

func (f *SinceFlag) Set(s string) (err error) {
	f.T, err = ParseSince(s, time.Now())
	return err
}

// ParseSince reads an RFC 3339 time, or a duration back from now (Go
// syntax such as 90m or 24h, or whole days such as 7d).
func ParseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if m := daysRE.FindStringSubmatch(s); m != nil {
		days, err := strconv.Atoi(m[1])
		if err == nil {
			return now.AddDate(0, 0, -days), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("-since %q: want an RFC 3339 time (2026-01-22T10:00:00Z) or a duration (24h, 7d)", s)
	}
	return now.Add(-d), nil
}

// WriteJSONLine writes v as one line of JSON.
func WriteJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Terminal reports whether w is a terminal (matches are then bold).
func Terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// PrintHits prints one block per hit: title, time and ID, then where the
// match is and the snippet, matches in bold on a terminal, else in *…*.
func PrintHits(w io.Writer, res *search.Results, bold bool) {
	on, off := "*", "*"
	if bold {
		on, off = "\x1b[1m", "\x1b[0m"
	}
	if len(res.Hits) == 0 {
		fmt.Fprintln(w, "no meeting matches")
		return
	}
	for _, h := range res.Hits {
		when := "time unknown"
		if !h.StartsAt.IsZero() {
			when = h.StartsAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(w, "%s  (%s)  %s  score %.2f\n", cmp.Or(h.Title, "Untitled meeting"), when, h.NotetakerID, h.Score)
		where := h.Field
		if h.Speaker != "" {
			where = h.Speaker
			if h.At != "" {
				where += " at " + h.At
			}
		}
		snippet := strings.NewReplacer(search.MarkStart, on, search.MarkEnd, off).Replace(h.Snippet)
		fmt.Fprintf(w, "    %s: %s\n", where, snippet)
	}
	if res.Total > uint64(len(res.Hits)) {
		fmt.Fprintf(w, "%d of %d meetings shown (-limit)\n", len(res.Hits), res.Total)
	}
}

// EventHeader is the header line above PrintEvent's lines.
var EventHeader = fmt.Sprintf("%-20s  %-28s  %-36s  %s\n", "RECEIVED", "TYPE", "ID", "SUBJECT")

// PrintEvent writes e as one line under EventHeader.
func PrintEvent(w io.Writer, e Event) error {
	subject := e.Subject
	if e.Error != "" {
		subject += " (not processed: " + e.Error + ")"
	}
	_, err := fmt.Fprintf(w, "%-20s  %-28s  %-36s  %s\n", e.ReceivedAt.UTC().Format(time.RFC3339), e.Type, e.ID, subject)
	return err
}

// PrintTasks writes tasks one line each under a header: key, state
// (waiting, running at now, dead), attempts, next run and last error.
func PrintTasks(w io.Writer, tasks []*store.Task, now time.Time) {
	fmt.Fprintf(w, "%-44s  %-7s  %8s  %-20s  %s\n", "KEY", "STATE", "ATTEMPTS", "NEXT RUN", "LAST ERROR")
	for _, t := range tasks {
		state, next := "waiting", t.NextRun.UTC().Format(time.RFC3339)
		switch {
		case t.Dead:
			state, next = "dead", "-"
		case t.Leased(now):
			state = "running"
		}
		fmt.Fprintf(w, "%-44s  %-7s  %8d  %-20s  %s\n", t.Key(), state, t.Attempts, next, t.LastError)
	}
}

// PrintVerify writes rep's problems, one a line, then a summary, and
// reports whether there was none.
func PrintVerify(w io.Writer, rep *VerifyReport) bool {
	for _, p := range rep.Problems {
		fmt.Fprintln(w, p)
	}
	pruned := ""
	if rep.Pruned > 0 {
		pruned = fmt.Sprintf(", %d pruned by retention", rep.Pruned)
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(w, "%d problems; %d files in %d meetings match their manifest%s\n", len(rep.Problems), rep.Files, rep.Meetings, pruned)
		return false
	}
	if rep.Objects > 0 {
		pruned += fmt.Sprintf(" (%d of them objects in the bucket, re-hashed)", rep.Objects)
	}
	fmt.Fprintf(w, "ok: %d files in %d meetings match their manifest%s\n", rep.Files, rep.Meetings, pruned)
	return true
}

// DeadLetterLines describes the first n of dead, one line each (key,
// attempts, the last error cut to 160 bytes), then how many more there are.
func DeadLetterLines(dead []*store.Task, n int) []string {
	var out []string
	for i, t := range dead {
		if i == n {
			out = append(out, fmt.Sprintf("… and %d more: notekeeper tasks -failed", len(dead)-i))
			break
		}
		msg := t.LastError
		if len(msg) > 160 {
			msg = strings.ToValidUTF8(msg[:160], "") + "…"
		}
		out = append(out, fmt.Sprintf("%s after %d attempts: %s", t.Key(), t.Attempts, msg))
	}
	return out
}
