package main

// The finding commands: search, export and reindex. Like the other operator
// commands they go through the running daemon's socket (the daemon holds
// the index's lock as well as the store's); without a daemon they open the
// store and the index themselves.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/ops"
	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/config"
	"github.com/notekeeper/notekeeper/store"
)

// finder is operator for the finding commands (ops.AsFinder).
func (c *opsCommand) finder(write bool) (ops.Finder, func(), error) {
	op, done, err := c.operator(write)
	if err != nil {
		return nil, nil, err
	}
	f, done := ops.AsFinder(op, done, c.cfg.DataDir, slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	return f, done, nil
}

func runSearch(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("search", std.Out, std.Err)
	asJSON := c.fs.Bool("json", false, "print one JSON object per hit")
	limit := c.fs.Int("limit", 20, "at most this many meetings (1–1000)")
	words, err := c.parseInterleaved(args)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(strings.Join(words, " "))
	if q == "" {
		return errors.New("search: give the words to find: notekeeper search QUERY")
	}
	if *limit < 1 || *limit > search.MaxLimit {
		return fmt.Errorf("search: -limit must be 1 to %d", search.MaxLimit)
	}
	f, done, err := c.finder(false)
	if err != nil {
		return err
	}
	defer done()
	if err := ops.OpenLocalIndex(f); err != nil {
		return err
	}
	res, err := f.Search(ctx, q, *limit)
	if err != nil {
		return err
	}
	if res.Partial {
		fmt.Fprintln(std.Err, "the search index is being rebuilt from the archive: results may be incomplete")
	}
	if *asJSON {
		for _, h := range res.Hits {
			if err := ops.WriteJSONLine(std.Out, h); err != nil {
				return err
			}
		}
		return nil
	}
	ops.PrintHits(std.Out, res, ops.Terminal(std.Out))
	return nil
}

func runExport(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("export", std.Out, std.Err)
	out := c.fs.String("o", "", "write the export (tar.gz) to this file; - for standard output")
	pos, err := c.parseInterleaved(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return errors.New("export: notekeeper export NOTETAKER_ID -o FILE")
	}
	id := pos[0]
	f, done, err := c.finder(false)
	if err != nil {
		return err
	}
	defer done()
	if *out == "-" {
		return f.Export(ctx, id, std.Out)
	}
	dir, name := datadir.SplitPath(*out)
	if err := datadir.WriteAtomic(dir, name, func(w io.Writer) error { return f.Export(ctx, id, w) }); err != nil {
		return err
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.Out, "wrote %s (%s): unpack it and run `sha256sum -c SHA256SUMS` in %s/ to check it\n",
		*out, datadir.FormatBytes(fi.Size()), id)
	return nil
}

func runReindex(ctx context.Context, args []string, std stdio) error {
	c := newOpsCommand("reindex", std.Out, std.Err)
	if err := c.parse(args, 0); err != nil {
		return err
	}
	f, done, err := c.finder(true)
	if err != nil {
		return err
	}
	defer done()
	if svc, ok := f.(*ops.Service); ok {
		svc.Backfill = c.localBackfill(svc.DB)
	}
	start := time.Now()
	res, err := f.Reindex(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.Out, "search index rebuilt: %d meetings (%d newly described) in %s\n",
		res.Meetings, res.Described, time.Since(start).Round(time.Millisecond))
	return nil
}

// localBackfill is the archiver's Backfill for reindex without a daemon:
// calendar events need the Nylas API key, so the config is loaded with its
// secrets; when they cannot be resolved here the bookings still describe
// interviews and the next daemon start's sweeps do the rest.
func (c *opsCommand) localBackfill(db *store.DB) func(context.Context, int) (int, error) {
	logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a := &appliance.Archiver{DB: db, DataDir: c.cfg.DataDir, Logger: logger, Now: time.Now}
	if cfg, err := config.Load(*c.config); err == nil {
		a.Nylas = nylas.New(cfg.Nylas.APIBase, cfg.Nylas.APIKey.Value())
	} else {
		fmt.Fprintf(c.stderr, "calendar events not read (%v): titles come from bookings only; the daemon's sweeps fill in the rest\n", err)
	}
	if t, err := newTarget(c.cfg); err == nil && t != nil {
		a.Target = t
	}
	return a.Backfill
}
