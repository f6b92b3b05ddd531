package archive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// Migrator copies the local meetings of DataDir to Target (`notekeeper
// archive migrate -to s3`): each file is uploaded unless already there with
// the right sha256, verified by reading it back and recorded in the
// meeting's manifest, which then goes to the bucket too. With DeleteLocal
// the local copies of big files (not KeepLocal) are removed once verified.
// The daemon must not be running.
type Migrator struct {
	Target      Target
	DataDir     string
	DeleteLocal bool

	// What Run did: meetings seen, files uploaded, files already in the
	// bucket, local copies removed.
	Meetings, Uploaded, Skipped, Removed int
}

// Run migrates every meeting folder with a manifest, one file at a time.
// It stops at the first failure (the error names the meeting and the
// file); everything done so far is recorded, so a re-run continues where it
// stopped.
func (m *Migrator) Run(ctx context.Context) error {
	entries, err := os.ReadDir(datadir.MediaRoot(m.DataDir))
	if errors.Is(err, os.ErrNotExist) {
		entries = nil
	} else if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || !SafeID(e.Name()) {
			continue
		}
		if err := m.meeting(ctx, e.Name()); err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
	}
	return nil
}

// meeting migrates one meeting's files and then its manifest.
func (m *Migrator) meeting(ctx context.Context, id string) error {
	dir, err := MediaDir(m.DataDir, id)
	if err != nil {
		return err
	}
	man, err := ReadManifest(dir)
	if errors.Is(err, ErrNoManifest) {
		return nil
	} else if err != nil {
		return err
	}
	m.Meetings++
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
	return m.Target.PutManifest(ctx, id, man)
}

// file makes sure one file is in the bucket and verified, records its
// object in the local manifest, and with deleteLocal removes the local copy
// of a big file.
func (m *Migrator) file(ctx context.Context, dir, id, name string, man *Manifest) error {
	e := man.Files[name]
	path := filepath.Join(dir, name)
	_, statErr := os.Stat(path)
	local := statErr == nil
	key := e.Object
	if key == "" {
		key = m.Target.Key(id, name)
	}
	switch err := m.Target.Check(ctx, key, e, e.Object == ""); {
	case err == nil:
		m.Skipped++ // already there: verified now (new) or when it was recorded
	case !local:
		return fmt.Errorf("not on disk and not in the bucket as the manifest says: %w", err)
	case errors.Is(err, ErrObjectMissing) || errors.Is(err, ErrChecksum):
		if err := m.Target.Upload(ctx, key, path, e); err != nil {
			return err
		}
		if err := m.Target.Check(ctx, key, e, true); err != nil {
			return err
		}
		m.Uploaded++
	default:
		return err
	}
	if e.Object != key {
		e.Object = key
		man.Files[name] = e
		if err := WriteManifest(dir, man); err != nil {
			return err
		}
	}
	if m.DeleteLocal && local && !KeepLocal(name) {
		if err := os.Remove(path); err != nil {
			return err
		}
		m.Removed++
	}
	return nil
}
