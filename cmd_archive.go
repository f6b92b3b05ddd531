// The archive command (`notekeeper archive migrate -to s3`) and the wiring
// of the [archive.s3] target.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/check"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/ops"
	"github.com/notekeeper/notekeeper/appliance/s3target"
	"github.com/notekeeper/notekeeper/config"
)

// newTarget returns the [archive.s3] bucket when the table is in use
// (target = "s3", or a bucket configured for migrate and for serving files
// already moved), else nil.
func newTarget(cfg config.Config) (archive.Target, error) {
	if !cfg.Archive.S3Used() {
		return nil, nil
	}
	s := cfg.Archive.S3
	b, err := s3target.New(s3target.Config{Endpoint: s.Endpoint, Region: s.Region, Bucket: s.Bucket, Prefix: s.Prefix,
		AccessKey: s.AccessKey.Value(), SecretKey: s.SecretKey.Value(), PathStyle: s.PathStyle,
		StorageClass: s.StorageClass, SSE: s.SSE})
	if err != nil {
		return nil, fmt.Errorf("archive.s3: %w", err)
	}
	return b, nil
}

// checkBucket is `notekeeper check`'s probe of [archive.s3]: the bucket is
// reachable and accepts the credentials.
func checkBucket(cfg config.Config) []check.Finding {
	t, err := newTarget(cfg)
	if err != nil {
		return []check.Finding{check.Problem("%v", err)}
	}
	if t == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := t.Ping(ctx); err != nil {
		return []check.Finding{check.Problem("archive.s3: %v", err)}
	}
	return nil
}

const archiveUsage = `usage: notekeeper archive migrate -to s3 [-delete-local] [-config FILE]

Copies every meeting under {data_dir}/media to the [archive.s3] bucket,
verifies each object's sha256 by reading it back, records it in the
meeting's manifest.json (and writes the manifest to the bucket), and with
-delete-local then removes the local recordings and thumbnails. Re-running
it skips what is already in the bucket with the right sha256. Stop the
daemon first: migrate refuses to run while it answers on its socket.
`

// runArchive dispatches `notekeeper archive …`.
func runArchive(ctx context.Context, args []string, std stdio) error {
	if len(args) == 0 || args[0] != "migrate" {
		fmt.Fprint(std.Err, archiveUsage)
		return errors.New("archive: want the migrate subcommand")
	}
	fs := flag.NewFlagSet("archive migrate", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	path := fs.String("config", config.DefaultPath(), "configuration file")
	to := fs.String("to", "", `destination: "s3"`)
	deleteLocal := fs.Bool("delete-local", false, "remove local recordings and thumbnails once their objects are verified")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *to != "s3" {
		fmt.Fprint(std.Err, archiveUsage)
		return fmt.Errorf("archive migrate: -to must be \"s3\", not %q", *to)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if cfg.Archive.S3.Bucket == "" {
		return errors.New("archive migrate: [archive.s3] is not configured (set endpoint, bucket and the keys)")
	}
	if daemonRunning(cfg.DataDir) {
		return errors.New("archive migrate: the daemon is running (its socket answers); stop it first (systemctl stop notekeeper)")
	}
	t, err := newTarget(cfg)
	if err != nil {
		return err
	}
	if err := t.Ping(ctx); err != nil {
		return fmt.Errorf("archive migrate: %w", err)
	}
	m := &archive.Migrator{Target: t, DataDir: cfg.DataDir, DeleteLocal: *deleteLocal}
	if err := m.Run(ctx); err != nil {
		return fmt.Errorf("archive migrate: %w", err)
	}
	fmt.Fprintf(std.Out, "ok: %d meetings in %s: %d files uploaded and verified, %d already there, %d local copies removed\n",
		m.Meetings, t, m.Uploaded, m.Skipped, m.Removed)
	return nil
}

// daemonRunning reports whether a daemon answers on the data dir's socket.
func daemonRunning(dataDir string) bool {
	c, err := ops.Dial(datadir.SocketPath(dataDir))
	if err != nil {
		return false
	}
	c.Close()
	return true
}
