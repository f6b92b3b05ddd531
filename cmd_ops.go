package main

// The operator commands: status, events, tasks, retry, replay, verify,
// backup, restore and hold. Each talks to the running daemon over its unix
// socket in the data dir; when no daemon answers it opens the store itself:
// read-only for the commands that only read, read-write for retry, replay
// and hold (whose tasks the next daemon start runs).

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/ops"
	"github.com/notekeeper/notekeeper/appliance/status"
	"github.com/notekeeper/notekeeper/config"
	"github.com/notekeeper/notekeeper/store"
)

// opsCommand is one operator command's flags and config.
type opsCommand struct {
	name   string
	fs     *flag.FlagSet
	config *string
	cfg    config.Config
	stdout io.Writer
	stderr io.Writer
	local  bool // no daemon: the command works on the store itself
}

// newOpsCommand prepares the flag set of command name with -config.
func newOpsCommand(name string, stdout, stderr io.Writer) *opsCommand {
	c := &opsCommand{name: name, fs: flag.NewFlagSet(name, flag.ContinueOnError), stdout: stdout, stderr: stderr}
	c.fs.SetOutput(stderr)
	c.config = c.fs.String("config", config.DefaultPath(), "configuration file")
	return c
}

// parse parses args, allowing at most maxArgs positional arguments, and
// loads the config (secrets unresolved: the commands need none).
func (c *opsCommand) parse(args []string, maxArgs int) error {
	if err := c.fs.Parse(args); err != nil {
		return err
	}
	if c.fs.NArg() > maxArgs {
		return fmt.Errorf("%s: unexpected argument %q", c.name, c.fs.Arg(maxArgs))
	}
	cfg, err := config.LoadUnresolved(*c.config)
	c.cfg = cfg
	return err
}

// operator returns the daemon's socket client, or, when no daemon answers,
// a Service over the store opened here (read-only unless write). close
// releases what it opened.
func (c *opsCommand) operator(write bool) (op ops.Operator, close func(), err error) {
	client, err := ops.Dial(datadir.SocketPath(c.cfg.DataDir))
	if err == nil {
		return client, client.Close, nil
	} else if !errors.Is(err, ops.ErrNoDaemon) {
		return nil, nil, err
	}
	db := store.NewDB(c.cfg.DBPath())
	db.ReadOnly = !write
	if err := db.Open(); err != nil {
		return nil, nil, err
	}
	c.local = true
	return newOpsService(c.cfg, db, nil), func() { db.Close() }, nil
}

// queued tells, after a write done without a daemon, when it takes effect.
func (c *opsCommand) queued() {
	if c.local {
		fmt.Fprintln(c.stderr, "notekeeper is not running: the work is queued in the store and runs at the next start")
	}
}

// newOpsService builds the operations over db for cfg. status, when set, is
// the daemon's; without one replay queues CRM/ATS deliveries for the next
// start through delivery handlers that only enqueue.
func newOpsService(cfg config.Config, db *store.DB, redeliver func(context.Context, *store.Notetaker) error) *ops.Service {
	if redeliver == nil {
		var crm *appliance.CRM
		var ats *appliance.ATS
		if cfg.CRM.Enabled {
			crm = &appliance.CRM{DB: db}
		}
		if cfg.ATS.Enabled {
			ats = &appliance.ATS{DB: db}
		}
		p := &appliance.Pipeline{DB: db, CRM: crm, ATS: ats}
		if cfg.Followup.Enabled {
			p.Followup = &appliance.Followup{DB: db} // only queues; the daemon sends
		}
		redeliver = p.RouteArchived
	}
	svc := &ops.Service{DB: db, DataDir: cfg.DataDir, Version: Version, Redeliver: redeliver,
		StateFiles: backupStateFiles(cfg)}
	// newTarget only fails on a configuration that validation refuses; then
	// Verify reports objects as unreadable ("[archive.s3] is not configured").
	if t, err := newTarget(cfg); err == nil && t != nil {
		svc.Target = t
	}
	return svc
}

// backupStateFiles are the data dir's state files a backup holds: the
// defaults plus webhook secret files kept in the data dir (where `webhook
// create` writes them).
func backupStateFiles(cfg config.Config) []string {
	files := append([]string(nil), datadir.StateFiles...)
	for _, s := range cfg.Nylas.WebhookSecrets {
		p, ok := strings.CutPrefix(s.Ref(), "file:")
		if ok && filepath.IsAbs(p) && filepath.Dir(filepath.Clean(p)) == filepath.Clean(cfg.DataDir) {
			files = append(files, filepath.Base(p))
		}
	}
	return files
}

func runStatus(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("status", std.Out, std.Err)
	asJSON := c.fs.Bool("json", false, "print the status as JSON")
	if err := c.parse(args, 0); err != nil {
		return err
	}
	op, done, err := c.operator(false)
	if err != nil {
		return err
	}
	defer done()
	st, err := op.Status(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLine(std.Out, st)
	}
	printStatus(std.Out, st)
	return nil
}

// printStatus writes st for a person.
func printStatus(w io.Writer, st *status.Status) {
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

func runEvents(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("events", std.Out, std.Err)
	asJSON := c.fs.Bool("json", false, "print one JSON object per line")
	var since sinceFlag
	c.fs.Var(&since, "since", "only notifications received since: RFC 3339 time, or a duration such as 24h or 7d")
	typ := c.fs.String("type", "", `only this type (or prefix, e.g. "notetaker" or "booking.created")`)
	if err := c.parse(args, 0); err != nil {
		return err
	}
	f := ops.EventFilter{Type: *typ, Since: since.t}
	op, done, err := c.operator(false)
	if err != nil {
		return err
	}
	defer done()
	if !*asJSON {
		fmt.Fprintf(std.Out, "%-20s  %-28s  %-36s  %s\n", "RECEIVED", "TYPE", "ID", "SUBJECT")
	}
	return op.Events(ctx, f, func(e ops.Event) error {
		if *asJSON {
			return writeJSONLine(std.Out, e)
		}
		subject := e.Subject
		if e.Error != "" {
			subject += " (not processed: " + e.Error + ")"
		}
		_, err := fmt.Fprintf(std.Out, "%-20s  %-28s  %-36s  %s\n", e.ReceivedAt.UTC().Format(time.RFC3339), e.Type, e.ID, subject)
		return err
	})
}

var daysRE = regexp.MustCompile(`^([0-9]+)d$`)

// sinceFlag is a -since flag: parseSince at the time flags are parsed.
type sinceFlag struct{ t time.Time }

func (f *sinceFlag) String() string {
	if f == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *sinceFlag) Set(s string) (err error) {
	f.t, err = parseSince(s, time.Now())
	return err
}

// parseSince reads an RFC 3339 time, or a duration back from now (Go
// syntax such as 90m or 24h, or whole days such as 7d).
func parseSince(s string, now time.Time) (time.Time, error) {
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

func runTasks(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("tasks", std.Out, std.Err)
	failed := c.fs.Bool("failed", false, "only dead-lettered tasks")
	asJSON := c.fs.Bool("json", false, "print one JSON object per line")
	if err := c.parse(args, 0); err != nil {
		return err
	}
	op, done, err := c.operator(false)
	if err != nil {
		return err
	}
	defer done()
	tasks, err := op.Tasks(ctx, *failed)
	if err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(std.Out, "%-44s  %-7s  %8s  %-20s  %s\n", "KEY", "STATE", "ATTEMPTS", "NEXT RUN", "LAST ERROR")
	}
	now := time.Now()
	for _, t := range tasks {
		if *asJSON {
			if err := writeJSONLine(std.Out, t); err != nil {
				return err
			}
			continue
		}
		state, next := "waiting", t.NextRun.UTC().Format(time.RFC3339)
		switch {
		case t.Dead:
			state, next = "dead", "-"
		case t.Leased(now):
			state = "running"
		}
		fmt.Fprintf(std.Out, "%-44s  %-7s  %8d  %-20s  %s\n", t.Key(), state, t.Attempts, next, t.LastError)
	}
	return nil
}

func runRetry(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("retry", std.Out, std.Err)
	all := c.fs.Bool("all-failed", false, "retry every dead-lettered task")
	if err := c.parse(args, 1); err != nil {
		return err
	}
	key := c.fs.Arg(0)
	if (key == "") == !*all {
		return errors.New("retry: give a task key (see `notekeeper tasks`) or -all-failed")
	}
	op, done, err := c.operator(true)
	if err != nil {
		return err
	}
	defer done()
	if *all {
		n, err := op.RetryAllFailed(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(std.Out, "retried %d dead-lettered tasks\n", n)
		c.queued()
		return nil
	}
	if err := op.Retry(ctx, key); err != nil {
		return err
	}
	fmt.Fprintf(std.Out, "retried %s\n", key)
	c.queued()
	return nil
}

func runReplay(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("replay", std.Out, std.Err)
	id := c.fs.String("id", "", "envelope id of the notification to replay")
	var since sinceFlag
	c.fs.Var(&since, "since", "replay every notification received since: RFC 3339 time or duration (24h, 7d)")
	if err := c.parse(args, 0); err != nil {
		return err
	}
	if (*id == "") == since.t.IsZero() {
		return errors.New("replay: give -id ID or -since T")
	}
	req := ops.ReplayRequest{ID: *id, Since: since.t}
	op, done, err := c.operator(true)
	if err != nil {
		return err
	}
	defer done()
	res, err := op.Replay(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.Out, "replayed %d notifications (%d imply no work); %d CRM/ATS deliveries queued again\n",
		res.Notifications, res.Skipped, res.Deliveries)
	c.queued()
	return nil
}

func runVerify(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("verify", std.Out, std.Err)
	if err := c.parse(args, 0); err != nil {
		return err
	}
	op, done, err := c.operator(false)
	if err != nil {
		return err
	}
	defer done()
	rep, err := op.Verify(ctx)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(std.Out, p)
	}
	pruned := ""
	if rep.Pruned > 0 {
		pruned = fmt.Sprintf(", %d pruned by retention", rep.Pruned)
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(std.Out, "%d problems; %d files in %d meetings match their manifest%s\n", len(rep.Problems), rep.Files, rep.Meetings, pruned)
		return exitError{}
	}
	if rep.Objects > 0 {
		pruned += fmt.Sprintf(" (%d of them objects in the bucket, re-hashed)", rep.Objects)
	}
	fmt.Fprintf(std.Out, "ok: %d files in %d meetings match their manifest%s\n", rep.Files, rep.Meetings, pruned)
	return nil
}

func runBackup(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("backup", std.Out, std.Err)
	out := c.fs.String("o", "", "write the backup (tar.gz) to this file; - for standard output")
	if err := c.parse(args, 0); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: -o FILE is required")
	}
	op, done, err := c.operator(false)
	if err != nil {
		return err
	}
	defer done()
	if *out == "-" {
		return op.Backup(ctx, std.Out)
	}
	dir, name := splitPath(*out)
	path, err := ops.WriteBackupFile(ctx, op, dir, name)
	if err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.Out, "wrote %s (%s)\n", path, datadir.FormatBytes(fi.Size()))
	return nil
}

func runRestore(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("restore", std.Out, std.Err)
	if err := c.parse(args, 1); err != nil {
		return err
	}
	if c.fs.NArg() != 1 {
		return errors.New("restore: give the backup file: notekeeper restore FILE")
	}
	res, err := ops.Restore(ctx, c.fs.Arg(0), c.cfg.DataDir)
	if err != nil {
		return err
	}
	n := res.Counts
	fmt.Fprintf(std.Out, "restored %s into %s: %d notifications, %d notetakers, %d bookings, %d tasks\n",
		strings.Join(res.Names, ", "), c.cfg.DataDir, n.Notifications, n.Notetakers, n.Bookings, n.TasksLive+n.TasksDead)
	if res.Aside != "" {
		fmt.Fprintf(std.Out, "the replaced files are in %s\n", res.Aside)
	}
	return nil
}

func runHold(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("hold", std.Out, std.Err)
	release := c.fs.Bool("release", false, "release the hold")
	if err := c.parse(args, 1); err != nil {
		return err
	}
	id := c.fs.Arg(0)
	if id == "" {
		return errors.New("hold: give a Notetaker ID: notekeeper hold [-release] NOTETAKER_ID")
	}
	op, done, err := c.operator(true)
	if err != nil {
		return err
	}
	defer done()
	if err := op.Hold(ctx, id, !*release); err != nil {
		return err
	}
	if *release {
		fmt.Fprintf(std.Out, "legal hold released on %s\n", id)
	} else {
		fmt.Fprintf(std.Out, "legal hold set on %s: retention keeps its files\n", id)
	}
	return nil
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
