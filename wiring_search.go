package main

import (
	"log/slog"
	"time"

	"github.com/notekeeper/notekeeper/appliance/search"
)

// indexIdleClose is how long the daemon keeps the search index's files
// open after the last search or update (and closes them once the start-up
// synchronisation is done): an idle appliance holds none of
// its pages (the next search reopens it in milliseconds).
const indexIdleClose = 5 * time.Minute

// openIndex opens the search index in {data_dir}/index/. A lost or damaged
// index is rebuilt from the archive in the background, with progress in
// the log; webhooks are accepted meanwhile, and searches say their results
// may be incomplete.
func (m *Main) openIndex() error {
	m.Index = search.New(m.Config.DataDir)
	m.Index.Logger = m.Logger.With(slog.String("component", "search"))
	m.Index.IdleClose = indexIdleClose
	return m.Index.Open()
}

// wireSearchOps gives the operator surface the index (search, export,
// reindex over the socket; retention keeps it current) and the archiver's
// metadata backfill.
func (m *Main) wireSearchOps() {
	m.Ops.Index = m.Index
	m.Ops.Backfill = m.Archiver.Backfill
	m.Ops.Logger = m.Logger.With(slog.String("component", "ops"))
}

// closeIndex closes the index (after the workers, which update it).
func (m *Main) closeIndex() error {
	if m.Index == nil {
		return nil
	}
	return m.Index.Close()
}
