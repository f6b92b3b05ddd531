package ops

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/store"
)

// ErrDaemonRunning: a daemon serves this data dir (its socket answers or it
// holds the database lock), so its state cannot be replaced.
var ErrDaemonRunning = errors.New("notekeeper is running on this data dir; stop it first (systemctl stop notekeeper)")

// maxRestoreEntries bounds the entries read from a backup file.
const maxRestoreEntries = 100_000

// RestoreResult says what Restore put in place.
type RestoreResult struct {
	Counts store.Counts `json:"counts"` // of the restored database
	Names  []string     `json:"names"`  // top-level names restored into the data dir
	// Aside is the folder, in the data dir, holding what the restore
	// replaced ("" when nothing was there).
	Aside string `json:"aside,omitempty"`
}

// Restore replaces the state of dataDir with the backup file at path. It
// refuses with ErrDaemonRunning while a daemon runs on dataDir. It first
// unpacks the whole backup into a hidden folder of dataDir and validates it
// (a readable tar.gz of known names only, a database that opens — migrating
// an older schema — and passes bbolt's consistency check); only then does
// it move the files it replaces into {dataDir}/pre-restore-TIME/ and rename
// the restored ones into place, the database last. Every file appears under
// its final name complete and fsynced; on an error before the renames
// nothing in dataDir has changed. Media is not touched.
func Restore(ctx context.Context, path, dataDir string) (*RestoreResult, error) {
	if err := checkStopped(dataDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	staging, err := os.MkdirTemp(dataDir, ".restore-*")
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(staging)
	names, err := unpack(ctx, path, staging)
	if err != nil {
		return nil, fmt.Errorf("restore %s: %w", path, err)
	}
	res := &RestoreResult{Names: names}
	if res.Counts, err = validateDB(filepath.Join(staging, datadir.DBFile)); err != nil {
		return nil, fmt.Errorf("restore %s: %w", path, err)
	}
	if err := checkStopped(dataDir); err != nil {
		return nil, err
	}
	aside := filepath.Join(dataDir, datadir.PreRestorePrefix+time.Now().UTC().Format(backupTimeFormat))
	// The database goes last: until it is in place the old one (moved
	// aside) is the only one, and a daemon start fails on its absence
	// rather than running half-restored.
	slices.SortStableFunc(names, func(a, b string) int {
		switch {
		case a == datadir.DBFile:
			return 1
		case b == datadir.DBFile:
			return -1
		}
		return 0
	})
	for _, name := range names {
		dst := filepath.Join(dataDir, name)
		if _, err := os.Lstat(dst); err == nil {
			if err := os.MkdirAll(aside, 0o700); err != nil {
				return nil, fmt.Errorf("restore: %w", err)
			}
			if err := os.Rename(dst, filepath.Join(aside, name)); err != nil {
				return nil, fmt.Errorf("restore: move %s aside: %w", name, err)
			}
			res.Aside = aside
		}
		if err := os.Rename(filepath.Join(staging, name), dst); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		if err := matchOwner(dataDir, dst); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
	}
	if err := datadir.SyncDir(dataDir); err != nil {
		return nil, err
	}
	return res, nil
}

// checkStopped fails with ErrDaemonRunning when a daemon answers on
// dataDir's socket or holds its database lock.
func checkStopped(dataDir string) error {
	if c, err := Dial(datadir.SocketPath(dataDir)); err == nil {
		c.Close()
		return ErrDaemonRunning
	} else if !errors.Is(err, ErrNoDaemon) {
		return fmt.Errorf("restore: %w", err)
	}
	db := store.NewDB(filepath.Join(dataDir, datadir.DBFile))
	db.ReadOnly, db.LockTimeout = true, 500*time.Millisecond
	err := db.Open()
	if err == nil {
		return db.Close()
	}
	if errors.Is(err, store.ErrLocked) {
		return ErrDaemonRunning
	}
	return nil // absent or unreadable: a restore replaces it anyway
}

// unpack extracts the backup at path into dir and returns the top-level
// names it holds. Only the names a backup can hold are accepted:
// notekeeper.db (required), plain files directly in the data dir and the
// certmagic/ tree; regular files and folders only.
func unpack(ctx context.Context, path, dir string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("not a tar.gz backup: %w", err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if n == maxRestoreEntries {
			return nil, fmt.Errorf("more than %d entries", maxRestoreEntries)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("not a tar.gz backup: %w", err)
		}
		name, err := backupEntryName(hdr.Name)
		if err != nil {
			return nil, err
		}
		if top, _, _ := strings.Cut(name, "/"); !slices.Contains(names, top) {
			names = append(names, top)
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o700); err != nil {
				return nil, err
			}
		case tar.TypeReg:
			if err := unpackFile(tr, dst, hdr.Size); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		default:
			return nil, fmt.Errorf("%s: not a regular file or folder", name)
		}
	}
	if !slices.Contains(names, datadir.DBFile) {
		return nil, fmt.Errorf("no %s in the backup", datadir.DBFile)
	}
	return names, nil
}

// backupEntryName checks a tar entry name and returns it cleaned.
func backupEntryName(raw string) (string, error) {
	name := path.Clean(strings.TrimSuffix(raw, "/"))
	if !filepath.IsLocal(filepath.FromSlash(name)) || strings.Contains(name, `\`) {
		return "", fmt.Errorf("entry %q is not a local path", raw)
	}
	top, rest, nested := strings.Cut(name, "/")
	switch {
	case top == datadir.CertDir:
		return name, nil
	case nested, rest != "", strings.HasPrefix(top, "."), top == datadir.MediaDir, top == datadir.BackupDir:
		return "", fmt.Errorf("entry %q is not something a backup holds", raw)
	}
	return name, nil
}

// unpackFile writes exactly size bytes from r to a new file dst (0600),
// fsynced.
func unpackFile(r io.Reader, dst string, size int64) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, r, size); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// validateDB opens the unpacked database (bringing an older schema up to
// date), runs bbolt's consistency check and returns its counts.
func validateDB(path string) (store.Counts, error) {
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		return store.Counts{}, err
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		return store.Counts{}, fmt.Errorf("database check: %w", err)
	}
	return db.Counts()
}

// matchOwner gives path (recursively) the owner of dataDir when running as
// root: a restore run with sudo must leave files the service's (dynamic)
// user can read.
func matchOwner(dataDir, path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(dataDir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return filepath.WalkDir(path, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(st.Uid), int(st.Gid))
	})
}
