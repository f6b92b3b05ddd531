package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ManifestName is the manifest's file name in a meeting's folder.
const ManifestName = "manifest.json"

// Manifest describes one meeting's archived files (SPEC §5).
type Manifest struct {
	NotetakerID string               `json:"notetaker_id"`
	GrantID     string               `json:"grant_id"`
	EventID     string               `json:"event_id"`
	DeletesAt   time.Time            `json:"deletes_at"` // RFC 3339; when Nylas deletes the media
	Files       map[string]FileEntry `json:"files"`      // final file name → entry
}

// FileEntry is one archived file.
type FileEntry struct {
	Bytes       int64     `json:"bytes"`
	SHA256      string    `json:"sha256"` // lowercase hex
	ContentType string    `json:"content_type"`
	ArchivedAt  time.Time `json:"archived_at"` // RFC 3339
}

// ErrNoManifest: the folder has no manifest yet.
var ErrNoManifest = errors.New("no manifest")

// ReadManifest reads dir/manifest.json; ErrNoManifest when there is none.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoManifest
	} else if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	m := &Manifest{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", dir, err)
	}
	if m.Files == nil {
		m.Files = map[string]FileEntry{}
	}
	return m, nil
}

// WriteManifest writes m to dir/manifest.json atomically (see
// WriteFileAtomic), as indented JSON with a trailing newline.
func WriteManifest(dir string, m *Manifest) error {
	c := *m
	c.DeletesAt = c.DeletesAt.UTC().Truncate(time.Second)
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return WriteFileAtomic(dir, ManifestName, append(b, '\n'))
}

// WriteFileAtomic replaces dir/name with data: it writes a hidden temporary
// file in dir (0600), fsyncs it, renames it over name and fsyncs dir, so a
// crash leaves the old file or the new one, never a mix. dir is created
// (0700) if missing.
func WriteFileAtomic(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
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
	ok = true
	return syncDir(dir)
}

// syncDir fsyncs a directory so a rename in it is durable.
func syncDir(dir string) error {
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

// ErrChecksum: a file's bytes no longer match its manifest entry.
var ErrChecksum = errors.New("checksum mismatch")

// VerifyFile re-hashes dir/name and compares it with e.
func VerifyFile(dir, name string, e FileEntry) error {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("verify %s: %w", name, err)
	}
	defer f.Close()
	sum, n, err := hashReader(f)
	if err != nil {
		return fmt.Errorf("verify %s: %w", name, err)
	}
	if n != e.Bytes || sum != e.SHA256 {
		return fmt.Errorf("verify %s: %w (%d bytes, sha256 %s; manifest says %d, %s)", name, ErrChecksum, n, sum, e.Bytes, e.SHA256)
	}
	return nil
}
