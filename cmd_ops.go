package main

// The operator commands: status, events, tasks, retry, replay, verify,
// backup, restore and hold. Each talks to the running daemon over its unix
// socket in the data dir; when no daemon answers it opens the store itself:
// read-only for the commands that only read, read-write for retry, replay
// and hold (whose tasks the next daemon start runs).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/ops"
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
// a Service over the store opened here (read-only unless write): see
// ops.Connect. close releases what it opened.
func (c *opsCommand) operator(write bool) (op ops.Operator, close func(), err error) {
	op, close, c.local, err = ops.Connect(c.cfg.DataDir, c.cfg.DBPath(), write,
		func(db *store.DB) *ops.Service { return newOpsService(c.cfg, db, nil) })
	return op, close, err
}

// read parses args (flags only) and returns operator(false), for the
// commands that only read.
func (c *opsCommand) read(args []string) (ops.Operator, func(), error) {
	if err := c.parse(args, 0); err != nil {
		return nil, nil, err
	}
	return c.operator(false)
}

// parseInterleaved parses args with flags before or after the positional
// arguments ("export ID -o FILE"), returns the positional ones and loads the
// config as parse does.
func (c *opsCommand) parseInterleaved(args []string) ([]string, error) {
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		return nil, err
	}
	c.cfg, err = config.LoadUnresolved(*c.config)
	return pos, err
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
		redeliver = appliance.QueueOnly(db, cfg.CRM.Enabled, cfg.ATS.Enabled, cfg.Followup.Enabled).RouteArchived
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
	var files []string
	for _, s := range cfg.Nylas.WebhookSecrets {
		if p, ok := strings.CutPrefix(s.Ref(), "file:"); ok {
			files = append(files, p)
		}
	}
	return datadir.StateFilesWith(cfg.DataDir, files)
}

func runStatus(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("status", std.Out, std.Err)
	asJSON := c.fs.Bool("json", false, "print the status as JSON")
	op, done, err := c.read(args)
	if err != nil {
		return err
	}
	defer done()
	st, err := op.Status(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return ops.WriteJSONLine(std.Out, st)
	}
	ops.PrintStatus(std.Out, st)
	return nil
}

func runEvents(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("events", std.Out, std.Err)
	asJSON := c.fs.Bool("json", false, "print one JSON object per line")
	var since ops.SinceFlag
	c.fs.Var(&since, "since", "only notifications received since: RFC 3339 time, or a duration such as 24h or 7d")
	typ := c.fs.String("type", "", `only this type (or prefix, e.g. "notetaker" or "booking.created")`)
	op, done, err := c.read(args)
	if err != nil {
		return err
	}
	defer done()
	f := ops.EventFilter{Type: *typ, Since: since.T}
	if !*asJSON {
		fmt.Fprint(std.Out, ops.EventHeader)
	}
	return op.Events(ctx, f, func(e ops.Event) error {
		if *asJSON {
			return ops.WriteJSONLine(std.Out, e)
		}
		return ops.PrintEvent(std.Out, e)
	})
}

func runTasks(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("tasks", std.Out, std.Err)
	failed := c.fs.Bool("failed", false, "only dead-lettered tasks")
	asJSON := c.fs.Bool("json", false, "print one JSON object per line")
	op, done, err := c.read(args)
	if err != nil {
		return err
	}
	defer done()
	tasks, err := op.Tasks(ctx, *failed)
	if err != nil {
		return err
	}
	if !*asJSON {
		ops.PrintTasks(std.Out, tasks, time.Now())
		return nil
	}
	for _, t := range tasks {
		if err := ops.WriteJSONLine(std.Out, t); err != nil {
			return err
		}
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
	var since ops.SinceFlag
	c.fs.Var(&since, "since", "replay every notification received since: RFC 3339 time or duration (24h, 7d)")
	if err := c.parse(args, 0); err != nil {
		return err
	}
	if (*id == "") == since.T.IsZero() {
		return errors.New("replay: give -id ID or -since T")
	}
	req := ops.ReplayRequest{ID: *id, Since: since.T}
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
	op, done, err := c.read(args)
	if err != nil {
		return err
	}
	defer done()
	rep, err := op.Verify(ctx)
	if err != nil {
		return err
	}
	if !ops.PrintVerify(std.Out, rep) {
		return exitError{}
	}
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
	dir, name := datadir.SplitPath(*out)
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
