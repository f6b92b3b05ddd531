package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/webhookfile"
	"github.com/notekeeper/notekeeper/config"
)

const webhookUsage = `usage: notekeeper webhook <create|list|status|rotate-secret> [-config FILE] [-grace 24h]

  create         subscribe this appliance ({public_url}{webhook_path}) to the Nylas triggers it handles;
                 the secret is written to the first file: entry of [nylas] webhook_secrets
  list           list the application's webhook destinations (* marks this appliance's)
  status         show this appliance's destination; exit 1 unless it is active
  rotate-secret  have Nylas issue a new secret; the old one stays accepted for -grace (default 24h)
`

// runWebhook manages the Nylas webhook destination: create, list, status,
// rotate-secret.
func runWebhook(ctx context.Context, args []string, std stdio) error {
	if len(args) == 0 {
		fmt.Fprint(std.Err, webhookUsage)
		return errors.New("webhook: no subcommand")
	}
	sub := args[0]
	fs := flag.NewFlagSet("webhook "+sub, flag.ContinueOnError)
	fs.SetOutput(std.Err)
	path := fs.String("config", config.DefaultPath(), "configuration file")
	grace := fs.Duration("grace", 24*time.Hour, "rotate-secret: how long the old secret stays accepted")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	client := nylas.New(cfg.Nylas.APIBase, cfg.Nylas.APIKey.Value())
	switch sub {
	case "create":
		return webhookCreate(ctx, cfg, client, std.Out)
	case "list":
		return webhookList(ctx, cfg, client, std.Out)
	case "status":
		return webhookStatus(ctx, cfg, client, std.Out)
	case "rotate-secret":
		return webhookRotate(ctx, cfg, client, *grace, std.Out)
	}
	fmt.Fprint(std.Err, webhookUsage)
	return fmt.Errorf("webhook: unknown subcommand %q", sub)
}

func webhookCreate(ctx context.Context, cfg config.Config, client *nylas.Client, stdout io.Writer) error {
	file, err := secretFile(cfg)
	if err != nil {
		return err
	}
	url := cfg.PublicURL() + cfg.Server.WebhookPath
	wh, err := webhookfile.Create(ctx, client, cfg.DataDir, url, file, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created webhook destination %s (%s) for %s\nsecret written to %s; a running notekeeper accepts it within %s\n",
		wh.ID, wh.Status, url, file, secretRefresh)
	return nil
}

func webhookList(ctx context.Context, cfg config.Config, client *nylas.Client, stdout io.Writer) error {
	ours, err := webhookfile.DestinationID(cfg.DataDir)
	if err != nil {
		return err
	}
	whs, err := client.ListWebhooks(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tID\tSTATUS\tURL")
	for _, w := range whs {
		mark := ""
		if w.ID == ours {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", mark, w.ID, w.Status, w.WebhookURL)
	}
	return tw.Flush()
}

func webhookStatus(ctx context.Context, cfg config.Config, client *nylas.Client, stdout io.Writer) error {
	id, err := webhookfile.Recorded(cfg.DataDir)
	if err != nil {
		return err
	}
	wh, err := client.GetWebhook(ctx, id)
	if err != nil {
		return err
	}
	missing := webhookfile.MissingTriggers(wh.TriggerTypes)
	fmt.Fprintf(stdout, "destination %s: %s\nurl: %s\ntriggers: %s\n", wh.ID, wh.Status, wh.WebhookURL, strings.Join(wh.TriggerTypes, ", "))
	if len(missing) > 0 {
		fmt.Fprintf(stdout, "missing triggers: %s\n", strings.Join(missing, ", "))
	}
	if wh.Status != "active" {
		return fmt.Errorf("webhook destination %s is %s", wh.ID, wh.Status)
	}
	return nil
}

func webhookRotate(ctx context.Context, cfg config.Config, client *nylas.Client, grace time.Duration, stdout io.Writer) error {
	file, err := secretFile(cfg)
	if err != nil {
		return err
	}
	old := ""
	for _, s := range cfg.Nylas.WebhookSecrets {
		if s.Ref() == "file:"+file {
			old = s.Value()
		}
	}
	id, until, err := webhookfile.Rotate(ctx, client, cfg.DataDir, file, old, grace, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rotated the secret of %s; new secret written to %s; the old one is accepted until %s\n",
		id, file, until.Format(time.RFC3339))
	return nil
}
