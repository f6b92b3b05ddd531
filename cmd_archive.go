// The archive command (`notekeeper archive migrate -to s3`) and the wiring
// of the [archive.s3] target.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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
func checkBucket(cfg config.Config) (check.Finding, bool) {
	t, err := newTarget(cfg)
	if err != nil {
		return check.Problem("%v", err), true
	}
	if t == nil {
		return check.Finding{}, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := t.Ping(ctx); err != nil {
		return check.Problem("archive.s3: %v", err), true
	}
	return check.Finding{}, false
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
	m := &migrator{target: t, dataDir: cfg.DataDir, deleteLocal: *deleteLocal, out: std.Out}
	return m.run(ctx)
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

// migrator copies local meetings to a Target.
type migrator struct {
	target      archive.Target
	dataDir     string
	deleteLocal bool
	out         io.Writer

	uploaded, skipped, removed, meetings int
}

// run migrates every meeting folder with a manifest, one file at a time.
// It stops at the first failure (after reporting it); everything done so
// far is recorded, so a re-run continues where it stopped.
func (m *migrator) run(ctx context.Context) error {
	entries, err := os.ReadDir(datadir.MediaRoot(m.dataDir))
	if errors.Is(err, os.ErrNotExist) {
		entries = nil
	} else if err != nil {
		return fmt.Errorf("archive migrate: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || !archive.SafeID(e.Name()) {
			continue
		}
		if err := m.meeting(ctx, e.Name()); err != nil {
			return fmt.Errorf("archive migrate: %s: %w", e.Name(), err)
		}
	}
	fmt.Fprintf(m.out, "ok: %d meetings in %s: %d files uploaded and verified, %d already there, %d local copies removed\n",
		m.meetings, m.target, m.uploaded, m.skipped, m.removed)
	return nil
}

// meeting migrates one meeting's files and then its manifest.
func (m *migrator) meeting(ctx context.Context, id string) error {
	dir, err := archive.MediaDir(m.dataDir, id)
	if err != nil {
		return err
	}
	man, err := archive.ReadManifest(dir)
	if errors.Is(err, archive.ErrNoManifest) {
		return nil
	} else if err != nil {
		return err
	}
	m.meetings++
	names := make([]string, 0, len(man.Files))
	for name := range man.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := m.file(ctx, dir, id, name, man); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return m.target.PutManifest(ctx, id, man)
}

// file makes sure one file is in the bucket and verified, records its
// object in the local manifest, and with deleteLocal removes the local copy
// of a big file.
func (m *migrator) file(ctx context.Context, dir, id, name string, man *archive.Manifest) error {
	e := man.Files[name]
	path := filepath.Join(dir, name)
	_, statErr := os.Stat(path)
	local := statErr == nil
	key := e.Object
	if key == "" {
		key = m.target.Key(id, name)
	}
	switch err := m.target.Check(ctx, key, e, e.Object == ""); {
	case err == nil:
		m.skipped++ // already there: verified now (new) or when it was recorded
	case !local:
		return fmt.Errorf("not on disk and not in the bucket as the manifest says: %w", err)
	case errors.Is(err, archive.ErrObjectMissing) || errors.Is(err, archive.ErrChecksum):
		if err := m.target.Upload(ctx, key, path, e); err != nil {
			return err
		}
		if err := m.target.Check(ctx, key, e, true); err != nil {
			return err
		}
		m.uploaded++
	default:
		return err
	}
	if e.Object != key {
		e.Object = key
		man.Files[name] = e
		if err := archive.WriteManifest(dir, man); err != nil {
			return err
		}
	}
	if m.deleteLocal && local && !archive.KeepLocal(name) {
		if err := os.Remove(path); err != nil {
			return err
		}
		m.removed++
	}
	return nil
}
