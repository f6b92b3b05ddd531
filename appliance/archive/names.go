// Package archive holds the file-level mechanics of notekeeper's media
// archive: {data_dir}/media/{notetaker_id}/ with one file per media kind and
// a manifest.json. It knows nothing of the store or of the Nylas API;
// appliance.Archiver drives it. Its pieces:
//
//   - names.go: which IDs may become folder names (SafeID, MediaDir) and the
//     final file name of each media kind (FileName, Kinds);
//   - fetch.go: Fetcher streams one signed media URL into a hidden partial
//     file, hashing as it goes, resumes it after an interruption, and only
//     renames it to its final name once it is complete, checked and fsynced;
//   - manifest.go: each meeting folder's manifest.json, and the atomic
//     write (temporary file, fsync, rename, fsync of the folder) used for it
//     and for other small files such as transcript.txt;
//   - text.go: rendering of generated, untrusted text: transcript.txt,
//     summaries and action items for the CRM and the ATS.
//
// A meeting's folder is {data_dir}/media/{notetaker_id}/ (0700); every file
// in it is 0600. Nothing appears there under a final name until it is
// complete and durable, so a reader (the /files handler, verify, backup)
// never sees a torn file. Hidden names (a leading dot) are work in
// progress: .{name}.partial for downloads, .{name}.tmp-* for atomic writes.
package archive

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// Kinds are the media kinds of a Notetaker meeting, in archive order: the
// values [archive] kinds accepts.
var Kinds = []string{"recording", "transcript", "summary", "action_items", "thumbnail"}

var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

// SafeID reports whether id may be used as a path segment:
// ^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$. It refuses the empty string, dots,
// separators, a leading '-' or '_', anything longer than 128 bytes and
// anything outside ASCII.
func SafeID(id string) bool { return safeID.MatchString(id) }

// MediaDir returns the folder of one meeting's files,
// filepath.Join(dataDir, datadir.MediaDir, id). It fails, without touching the disk,
// for an ID that is not SafeID; the folder it returns is always inside
// dataDir.
func MediaDir(dataDir, id string) (string, error) {
	if !SafeID(id) {
		return "", fmt.Errorf("media dir: notetaker id %q is not a safe path segment", id)
	}
	dir := filepath.Join(datadir.MediaRoot(dataDir), id)
	if rel, err := filepath.Rel(dataDir, dir); err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("media dir: %q escapes the data dir", id)
	}
	return dir, nil
}

// recordingTypes maps a recording's content type to its extension.
var recordingTypes = map[string]string{
	"video/mp4": "mp4", "audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/mp4": "m4a",
	"audio/x-m4a": "m4a", "audio/m4a": "m4a", "video/webm": "webm", "audio/webm": "webm",
	"audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/ogg": "ogg",
}

// plainFormat is a recording_file_format usable as an extension as it is.
var plainFormat = regexp.MustCompile(`^[a-z0-9]{2,5}$`)

// FileName returns the final file name of a media kind:
//
//   - recording: "recording."+format when format (recording_file_format) is
//     a plain token of 2–5 lowercase letters or digits (mp4, mp3, webm, m4a,
//     …, compared case-insensitively); else the extension of contentType
//     (video/mp4 → mp4, audio/mpeg → mp3, audio/mp4 → m4a, video/webm →
//     webm, audio/wav → wav, …); else "recording.mp4";
//   - thumbnail: "thumbnail.jpg" for image/jpeg, else "thumbnail.png";
//   - transcript, summary, action_items: "{kind}.json".
//
// Content-type parameters (";charset=…") and case are ignored. An unknown
// kind yields "", which Fetch and datadir.WriteFileAtomic refuse.
func FileName(kind, format, contentType string) string {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.ToLower(strings.TrimSpace(ct))
	switch kind {
	case "recording":
		if f := strings.ToLower(strings.TrimSpace(format)); plainFormat.MatchString(f) {
			return "recording." + f
		}
		if ext, ok := recordingTypes[ct]; ok {
			return "recording." + ext
		}
		return "recording.mp4"
	case "thumbnail":
		if ct == "image/jpeg" || ct == "image/jpg" || ct == "image/pjpeg" {
			return "thumbnail.jpg"
		}
		return "thumbnail.png"
	case "transcript", "summary", "action_items":
		return kind + ".json"
	}
	return ""
}

// safeFileName reports whether name may be created inside a meeting folder:
// one visible path element (no separator, no leading dot, not empty), at
// most 200 bytes, no control characters.
func safeFileName(name string) bool {
	if name == "" || len(name) > 200 || name[0] == '.' || strings.ContainsAny(name, `/\:`) {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return filepath.IsLocal(name)
}
