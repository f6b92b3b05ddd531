package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/provision"
	"github.com/notekeeper/notekeeper/config"
)

const botUsage = `usage: notekeeper bot <join|cancel|leave> … [-config FILE]

  join URL [-grant G] [-at TIME] [-name NAME]
          send a Notetaker to the meeting at URL, now or at TIME (RFC 3339, or a delay such as 10m);
          prints its Notetaker ID. Running it again finds the bot already sent instead of sending another.
  cancel ID [-grant G]   cancel a bot that has not joined yet
  leave ID [-grant G]    make a bot leave its meeting

-grant defaults to the only grant of [nylas] grants; with none the bot is standalone. cancel and leave
without -grant try each grant of [nylas] grants, then standalone bots.
`

// runBot is `notekeeper bot join|cancel|leave` (docs/commands.md).
func runBot(ctx context.Context, args []string, std stdio) error {
	if len(args) == 0 {
		fmt.Fprint(std.Err, botUsage)
		return errors.New("bot: no subcommand")
	}
	sub := args[0]
	fs := flag.NewFlagSet("bot "+sub, flag.ContinueOnError)
	fs.SetOutput(std.Err)
	path := fs.String("config", config.DefaultPath(), "configuration file")
	grant := fs.String("grant", "", "the grant the bot belongs to")
	at := fs.String("at", "", "join: when to join (RFC 3339, or a delay such as 10m); default now")
	name := fs.String("name", "", "join: the bot's name in the meeting")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 || (sub != "join" && sub != "cancel" && sub != "leave") {
		fmt.Fprint(std.Err, botUsage)
		return fmt.Errorf("bot %s: give exactly one %s", sub, map[bool]string{true: "meeting URL", false: "Notetaker ID"}[sub == "join"])
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	client := nylas.New(cfg.Nylas.APIBase, cfg.Nylas.APIKey.Value())
	switch sub {
	case "join":
		return botJoin(ctx, cfg, client, std, pos[0], *grant, *at, *name)
	case "cancel":
		err = provision.EachGrant(cfg.Nylas.Grants, *grant, func(g string) error { return client.CancelNotetaker(ctx, g, pos[0]) })
		if err == nil {
			fmt.Fprintf(std.Out, "cancelled %s\n", pos[0])
		}
		return err
	default:
		err = provision.EachGrant(cfg.Nylas.Grants, *grant, func(g string) error { return client.LeaveNotetaker(ctx, g, pos[0]) })
		if err == nil {
			fmt.Fprintf(std.Out, "%s is leaving its meeting\n", pos[0])
		}
		return err
	}
}

func botJoin(ctx context.Context, cfg config.Config, client *nylas.Client, std stdio, link, grant, at, name string) error {
	if !strings.HasPrefix(link, "https://") {
		return fmt.Errorf("bot join: %q is not an https meeting link", link)
	}
	if grant == "" {
		switch len(cfg.Nylas.Grants) {
		case 0: // a standalone bot
		case 1:
			grant = cfg.Nylas.Grants[0]
		default:
			return errors.New("bot join: [nylas] grants lists several grants; say which with -grant")
		}
	}
	when, err := joinTime(at, time.Now())
	if err != nil {
		return err
	}
	jn := &provision.Joiner{Nylas: client}
	nt, found, err := jn.Join(ctx, provision.BotJoin{Grant: grant, MeetingLink: link, At: when, Name: name})
	if err != nil {
		return err
	}
	bot := provision.Record(nt, grant)
	c := newOpsCommand("bot join", std.Out, std.Err)
	c.cfg = cfg
	op, done, err := c.operator(true)
	if err == nil {
		defer done()
		err = op.RecordBot(ctx, bot)
	}
	if err != nil {
		return fmt.Errorf("bot %s was sent, but could not be recorded (it is still archived through reconcile): %w", nt.ID, err)
	}
	switch {
	case found:
		fmt.Fprintf(std.Err, "a bot was already sent to this meeting (%s); none sent again\n", nt.CurrentState())
	case nt.JoinTime > 0:
		fmt.Fprintf(std.Err, "bot sent: joins at %s\n", time.Unix(nt.JoinTime, 0).Format(time.RFC3339))
	default:
		fmt.Fprintln(std.Err, "bot sent: joining now")
	}
	fmt.Fprintln(std.Out, nt.ID)
	return nil
}

// joinTime reads -at: "" is now (zero), else RFC 3339 or a delay from now.
func joinTime(at string, now time.Time) (time.Time, error) {
	if at == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(at); err == nil && d > 0 {
		return now.Add(d).Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return time.Time{}, fmt.Errorf("bot join: -at %q is neither an RFC 3339 time (2026-03-01T15:00:00+01:00) nor a delay (10m)", at)
	}
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("bot join: -at %s is in the past", at)
	}
	return t, nil
}

// parseInterleaved parses flags that may come before or after the
// positional arguments (`bot join URL -grant G`), returning the positional
// ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
