package datadir

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// WriteFileAtomic replaces dir/name with data: it writes a hidden temporary
// file .{name}.tmp-* in dir (0600), fsyncs it, renames it over name and
// fsyncs dir, so a crash leaves the old file or the new one, never a mix,
// and no temporary file is left behind on error. dir is created (0700,
// parents too) when missing. name must be a single path element.
func WriteFileAtomic(dir, name string, data []byte) error {
	return WriteAtomic(dir, name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomic is WriteFileAtomic for content streamed by write; write's
// error is returned as it is, and nothing is left behind.
func WriteAtomic(dir, name string, write func(w io.Writer) error) error {
	if !PlainName(name) {
		return fmt.Errorf("write %q: not a plain file name", name)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	done = true
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so that a rename or creation in it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// PlainName reports whether name is a single path element: what
// WriteFileAtomic accepts (hidden names included, for files outside the
// media tree such as a secret file).
func PlainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00")
}

// SplitPath is filepath.Split without the trailing separator: the
// directory and name WriteAtomic takes.
func SplitPath(path string) (dir, name string) {
	dir, name = filepath.Split(path)
	return filepath.Clean(dir), name
}
