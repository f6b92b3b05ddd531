package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// ManifestName is the manifest's file name in a meeting's folder.
const ManifestName = "manifest.json"

// Manifest describes one meeting's archived files (manifest.json). Written by
// WriteManifest it reads, for example:
//
//	{
//	  "notetaker_id": "nt7Hq2LmZ",
//	  "grant_id": "grant-a1b2c3",
//	  "event_id": "7kq2c1vdd0l3o9n3h2",
//	  "deletes_at": "2026-02-05T10:00:00Z",
//	  "title": "Acme renewal call",
//	  "starts_at": "2026-01-22T09:00:00Z",
//	  "ends_at": "2026-01-22T09:30:00Z",
//	  "participants": [{"name": "Jo Park", "email": "jo@acme.example"}],
//	  "files": {
//	    "recording.mp4": {
//	      "bytes": 52428800,
//	      "sha256": "9f86d0…",
//	      "content_type": "video/mp4",
//	      "archived_at": "2026-01-22T10:03:12Z"
//	    }
//	  }
//	}
//
// Times are RFC 3339 in UTC, to the second. deletes_at is always present
// (docs/archive.md lists it; zero time while unknown); grant_id and event_id are "" when unknown. files is
// always an object, {} when empty. title, starts_at and ends_at are "" and
// participants [] when the meeting is not known (meeting.go).
type Manifest struct {
	NotetakerID string    `json:"notetaker_id"`
	GrantID     string    `json:"grant_id"`
	EventID     string    `json:"event_id"`
	DeletesAt   time.Time `json:"deletes_at"` // when Nylas deletes the media (always present: docs/archive.md lists it)
	// The meeting, from the calendar event or the booking.
	Title        string               `json:"title"`
	StartsAt     Stamp                `json:"starts_at"`
	EndsAt       Stamp                `json:"ends_at"`
	Participants []Participant        `json:"participants"`
	Files        map[string]FileEntry `json:"files"` // final file name → entry
}

// FileEntry is one archived file of a Manifest.
type FileEntry struct {
	Bytes       int64     `json:"bytes"`
	SHA256      string    `json:"sha256"` // lowercase hex
	ContentType string    `json:"content_type"`
	ArchivedAt  time.Time `json:"archived_at"`
	// Object is the file's key in the [archive.s3] bucket once it has been
	// uploaded and verified there (absent for files kept on local disk
	// only). A file with an Object may be gone from the local folder.
	Object string `json:"object,omitempty"`
}

// Errors of the manifest functions, for errors.Is.
var (
	// ErrNoManifest: the folder has no manifest.json (yet).
	ErrNoManifest = errors.New("no manifest")
	// ErrChecksum: a file's bytes no longer match its manifest entry.
	ErrChecksum = errors.New("checksum mismatch")
)

// ReadManifest reads dir/manifest.json. A missing file (or folder) is
// ErrNoManifest; unreadable or invalid JSON is another error. Files is
// never nil in the result.
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

// WriteManifest replaces dir/manifest.json with m, atomically (see
// datadir.WriteFileAtomic): indented JSON (two spaces, keys sorted) with a trailing
// newline, times normalised to UTC seconds. m is not modified. A file name
// in m.Files that is not a visible single path element is refused.
func WriteManifest(dir string, m *Manifest) error {
	c := *m
	c.DeletesAt = normTime(c.DeletesAt)
	if c.Participants == nil {
		c.Participants = []Participant{}
	}
	c.Files = make(map[string]FileEntry, len(m.Files))
	for name, e := range m.Files {
		if !safeFileName(name) {
			return fmt.Errorf("write manifest: unsafe file name %q", name)
		}
		e.ArchivedAt = normTime(e.ArchivedAt)
		c.Files[name] = e
	}
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return datadir.WriteFileAtomic(dir, ManifestName, append(b, '\n'))
}

func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Second)
}

// VerifyFile re-reads dir/name and compares its size and sha256 with e:
// nil when they match, ErrChecksum when they do not, another error when
// the file cannot be read (os.ErrNotExist when it is gone). Memory does not
// grow with the file.
func VerifyFile(dir, name string, e FileEntry) error {
	if !safeFileName(name) {
		return fmt.Errorf("verify %q: unsafe file name", name)
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("verify %s: %w", name, err)
	}
	defer f.Close()
	sum, n, err := hashReader(f)
	if err != nil {
		return fmt.Errorf("verify %s: %w", name, err)
	}
	if n != e.Bytes || !strings.EqualFold(sum, e.SHA256) {
		return fmt.Errorf("verify %s: %w (%d bytes, sha256 %s; manifest says %d, %s)", name, ErrChecksum, n, sum, e.Bytes, e.SHA256)
	}
	return nil
}
