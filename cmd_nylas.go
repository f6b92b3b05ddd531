package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/provision"
	"github.com/notekeeper/notekeeper/config"
)

const nylasUsage = `usage: notekeeper nylas <plan|apply|grants> [-config FILE]

  plan    compare the [[calendar]] and [[scheduler]] tables with what Nylas holds, one line per
          difference; exit 0 when nothing differs, 2 when changes are pending, 1 on an error
  apply   make Nylas match the tables, read everything back, print each booking page URL
  grants  list the application's grants (* marks those in [nylas] grants)

They need no daemon and work while one runs (the store is not opened).
`

// runNylas is `notekeeper nylas plan|apply|grants` (docs/commands.md, docs/nylas-setup.md).
func runNylas(ctx context.Context, args []string, std stdio) error {
	if len(args) == 0 {
		fmt.Fprint(std.Err, nylasUsage)
		return errors.New("nylas: no subcommand")
	}
	sub := args[0]
	fs := flag.NewFlagSet("nylas "+sub, flag.ContinueOnError)
	fs.SetOutput(std.Err)
	path := fs.String("config", config.DefaultPath(), "configuration file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("nylas %s: unexpected argument %q", sub, fs.Arg(0))
	}
	if sub != "plan" && sub != "apply" && sub != "grants" {
		fmt.Fprint(std.Err, nylasUsage)
		return fmt.Errorf("nylas: unknown subcommand %q", sub)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	client := nylas.New(cfg.Nylas.APIBase, cfg.Nylas.APIKey.Value())
	if sub == "grants" {
		grants, err := client.ListGrants(ctx)
		if err != nil {
			return err
		}
		return provision.WriteGrants(std.Out, grants, cfg.Nylas.Grants)
	}
	p := newProvisioner(cfg, client)
	if len(p.Calendars) == 0 && len(p.Schedulers) == 0 {
		fmt.Fprintln(std.Out, "nothing declared: add [[calendar]] or [[scheduler]] tables (docs/nylas-setup.md)")
		return nil
	}
	if sub == "apply" {
		return p.Apply(ctx, std.Out)
	}
	plan, err := p.Plan(ctx)
	if err != nil {
		return err
	}
	if _, err := plan.WriteTo(std.Out); err != nil {
		return err
	}
	if plan.Pending() {
		return exitStatus(2)
	}
	return nil
}

// newProvisioner copies the config's Nylas-side tables into a Provisioner.
func newProvisioner(cfg config.Config, client *nylas.Client) *provision.Provisioner {
	p := &provision.Provisioner{Nylas: client, DataDir: cfg.DataDir}
	for _, c := range cfg.Calendars {
		p.Calendars = append(p.Calendars, provision.Calendar{
			Grant: c.Grant, CalendarID: c.CalendarID, Enabled: c.Enabled, BotName: c.BotName,
			EventSelection: c.EventSelection, ParticipantsGTE: c.ParticipantsGTE, ParticipantsLTE: c.ParticipantsLTE,
			VideoRecording: c.VideoRecording, AudioRecording: c.AudioRecording, Transcription: c.Transcription,
			Summary: c.Summary, ActionItems: c.ActionItems, SummaryInstructions: c.SummaryInstructions,
			ActionItemsInstructions: c.ActionItemsInstructions, LeaveAfterSilenceSeconds: c.LeaveAfterSilenceSeconds,
		})
	}
	for _, s := range cfg.Schedulers {
		ps := provision.Scheduler{
			Name: s.Name, Grant: s.Grant, Slug: s.Slug, Title: s.Title, DurationMinutes: s.DurationMinutes,
			AvailabilityMethod: s.AvailabilityMethod, Conferencing: s.Conferencing, RequiresSessionAuth: s.RequiresSessionAuth,
			Notetaker: provision.SchedulerNotetaker{Enabled: s.Notetaker.Enabled, Name: s.Notetaker.Name,
				ShowConsentMessage: s.Notetaker.ShowConsentMessage, SummaryInstructions: s.Notetaker.SummaryInstructions,
				ActionItemsInstructions: s.Notetaker.ActionItemsInstructions},
		}
		for _, pt := range s.Participants {
			ps.Participants = append(ps.Participants, provision.Participant{Name: pt.Name, Email: pt.Email,
				Organizer: pt.Organizer, CalendarID: pt.CalendarID})
		}
		p.Schedulers = append(p.Schedulers, ps)
	}
	return p
}
