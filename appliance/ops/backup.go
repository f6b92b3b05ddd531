package ops

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// What a backup holds: the database, the certmagic storage and the small
// state files of the data dir (datadir.StateFiles: the /files link key, since
// links handed to CRMs must survive a restore, and the webhook destination
// files). Media (media/) is not in it: it is large and already on disk file
// by file; copy it with rsync.

// Backup writes a backup of the data dir's state to w as a tar.gz: a
// consistent online snapshot of the database (store.DB.Backup), the
// certmagic/ tree and the StateFiles that exist. It works while the daemon
// serves.
func (s *Service) Backup(ctx context.Context, w io.Writer) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	now := s.now().UTC()
	_, err := s.DB.Backup(tw, func(size int64) error {
		return tw.WriteHeader(&tar.Header{Name: datadir.DBFile, Typeflag: tar.TypeReg, Mode: 0o600, Size: size, ModTime: now})
	})
	if err != nil {
		return err
	}
	for _, name := range s.stateFiles() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := addFile(tw, filepath.Join(s.DataDir, name), name); errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
	}
	if err := addTree(ctx, tw, s.DataDir, datadir.CertDir); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

func (s *Service) stateFiles() []string {
	if s.StateFiles == nil {
		return datadir.StateFiles
	}
	return s.StateFiles
}

// addFile adds the regular file at path to tw as name.
func addFile(tw *tar.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("backup %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("backup %s: not a regular file", name)
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o600, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
		return fmt.Errorf("backup %s: %w", name, err)
	}
	// A file that grew since Stat is cut at the header's size; one that
	// shrank fails the copy.
	if _, err := io.CopyN(tw, f, fi.Size()); err != nil {
		return fmt.Errorf("backup %s: %w", name, err)
	}
	return nil
}

// addTree adds the folder dataDir/dir with its sub-folders and regular files
// (symbolic links and other special files are skipped). A missing folder
// adds nothing.
func addTree(ctx context.Context, tw *tar.Writer, dataDir, dir string) error {
	root := filepath.Join(dataDir, dir)
	if _, err := os.Lstat(root); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("backup %s: %w", dir, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dataDir, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return tw.WriteHeader(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: 0o700})
		case d.Type().IsRegular():
			if err := addFile(tw, path, name); errors.Is(err, os.ErrNotExist) {
				return nil // removed while walking (a lock file)
			} else if err != nil {
				return err
			}
		}
		return nil
	})
}

// backupTimeFormat names backup files: notekeeper-20260123T030000Z.tar.gz.
const backupTimeFormat = "20060102T150405Z"

// BackupName is the file name the backup job gives a backup taken at t.
func BackupName(t time.Time) string {
	return "notekeeper-" + t.UTC().Format(backupTimeFormat) + ".tar.gz"
}

// isBackupName reports whether name is one the backup job wrote.
func isBackupName(name string) bool {
	ts, ok := strings.CutPrefix(name, "notekeeper-")
	if !ok {
		return false
	}
	ts, ok = strings.CutSuffix(ts, ".tar.gz")
	if !ok {
		return false
	}
	_, err := time.Parse(backupTimeFormat, ts)
	return err == nil
}

// BackupJob returns the `[jobs] backup` job: it writes a backup to
// {DataDir}/backups/notekeeper-YYYYMMDDTHHMMSSZ.tar.gz (0600, folder 0700)
// atomically — a hidden temporary file, fsynced, renamed, folder fsynced —
// and then deletes all but the keep newest backups of that folder.
func (s *Service) BackupJob(keep int) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		dir := filepath.Join(s.DataDir, datadir.BackupDir)
		if _, err := WriteBackupFile(ctx, s, dir, BackupName(s.now())); err != nil {
			return err
		}
		return rotateBackups(dir, keep)
	}
}

// WriteBackupFile writes op's backup to dir/name atomically and returns its
// path: the folder is created 0700, the file is written 0600 under a hidden
// temporary name, fsynced and renamed, and the folder fsynced. On error no
// file is left behind.
func WriteBackupFile(ctx context.Context, op Operator, dir, name string) (string, error) {
	var backupErr error
	write := func(w io.Writer) error { backupErr = op.Backup(ctx, w); return backupErr }
	if err := datadir.WriteAtomic(dir, name, write); backupErr != nil {
		return "", backupErr // as the operator said it
	} else if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	return filepath.Join(dir, name), nil
}

// rotateBackups deletes all but the keep newest backup files of dir (by the
// time in their names); other files are left alone.
func rotateBackups(dir string, keep int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("rotate backups: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && isBackupName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names) // the fixed-width UTC time sorts by age
	var errs []error
	for _, name := range names[:max(0, len(names)-max(keep, 1))] {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("rotate backups: %w", err)
	}
	return nil
}
