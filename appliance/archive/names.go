// Package archive holds the file-level mechanics of notekeeper's media
// archive: streaming a signed media URL to disk safely (Fetcher), the
// per-meeting manifest.json, atomic small-file writes, file names, and the
// rendering of generated text (transcripts, summaries, action items).
//
// It knows nothing of the store or of Nylas' API; appliance.Archiver drives
// it. Every file it writes is 0600 and every directory 0700, and nothing
// appears under a final name until it is complete and fsynced.
package archive

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Kinds are the media kinds of a Notetaker meeting, in archive order.
var Kinds = []string{"recording", "transcript", "summary", "action_items", "thumbnail"}

var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

// SafeID reports whether id may be used as a directory name (SPEC §5).
func SafeID(id string) bool { return safeID.MatchString(id) }

// MediaDir is the folder of one meeting's files, {dataDir}/media/{id}. It
// fails for an ID that is not a safe path segment.
func MediaDir(dataDir, id string) (string, error) {
	if !SafeID(id) {
		return "", fmt.Errorf("notetaker id %q is not a safe path segment", id)
	}
	return filepath.Join(dataDir, "media", id), nil
}

var recordingTypes = map[string]string{
	"video/mp4": "mp4", "audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/mp4": "m4a",
	"audio/x-m4a": "m4a", "video/webm": "webm", "audio/webm": "webm", "audio/wav": "wav",
	"audio/x-wav": "wav", "audio/ogg": "ogg",
}

var plainFormat = regexp.MustCompile(`^[a-z0-9]{2,5}$`)

// FileName is the final file name of a kind (SPEC §5): the recording's
// extension comes from recording_file_format when it is a plain token, else
// from the content type (mp4 by default); the thumbnail's from the content
// type (png by default).
func FileName(kind, format, contentType string) string {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	switch kind {
	case "recording":
		if f := strings.ToLower(format); plainFormat.MatchString(f) {
			return "recording." + f
		}
		if ext, ok := recordingTypes[ct]; ok {
			return "recording." + ext
		}
		return "recording.mp4"
	case "thumbnail":
		if ct == "image/jpeg" || ct == "image/jpg" {
			return "thumbnail.jpg"
		}
		return "thumbnail.png"
	}
	return kind + ".json"
}
