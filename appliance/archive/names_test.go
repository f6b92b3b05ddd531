package archive_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/archive"
)

func TestSafeID(t *testing.T) {
	cases := []struct {
		name string
		id   string
		safe bool
	}{
		{"Nylas ID", "nt7Hq2LmZ", true},
		{"one character", "a", true},
		{"digit first", "9abc", true},
		{"underscore and dash inside", "A_b-9", true},
		{"128 characters", strings.Repeat("a", 128), true},
		{"empty", "", false},
		{"parent", "..", false},
		{"dot", ".", false},
		{"traversal", "../x", false},
		{"slash", "a/b", false},
		{"backslash", `a\b`, false},
		{"hidden", ".hidden", false},
		{"leading dash", "-flag", false},
		{"leading underscore", "_x", false},
		{"129 characters", strings.Repeat("a", 129), false},
		{"unicode letter", "é", false},
		{"unicode lookalike", "ntＡ", false},
		{"space", "a b", false},
		{"NUL", "a\x00", false},
		{"trailing newline", "abc\n", false},
		{"dot inside", "a.b", false},
		{"colon", "c:x", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := archive.SafeID(tc.id); got != tc.safe {
				t.Fatalf("SafeID(%q) = %v, want %v", tc.id, got, tc.safe)
			}
			dir, err := archive.MediaDir("/var/lib/notekeeper", tc.id)
			if (err == nil) != tc.safe {
				t.Fatalf("MediaDir(%q): %q, %v", tc.id, dir, err)
			}
			if tc.safe && dir != filepath.Join("/var/lib/notekeeper", "media", tc.id) {
				t.Fatalf("MediaDir(%q) = %q", tc.id, dir)
			}
		})
	}
}

func TestFileName(t *testing.T) {
	cases := []struct {
		name                      string
		kind, format, contentType string
		want                      string
	}{
		{"format mp4", "recording", "mp4", "", "recording.mp4"},
		{"format wins over the content type", "recording", "mp3", "video/mp4", "recording.mp3"},
		{"format upper case", "recording", "WEBM", "", "recording.webm"},
		{"format m4a", "recording", "m4a", "", "recording.m4a"},
		{"no format: audio/mpeg", "recording", "", "audio/mpeg", "recording.mp3"},
		{"no format: audio/mp4", "recording", "", "audio/mp4", "recording.m4a"},
		{"no format: video/webm", "recording", "", "video/webm", "recording.webm"},
		{"no format: audio/wav", "recording", "", "audio/wav", "recording.wav"},
		{"no format: video/mp4 with parameters", "recording", "", "Video/MP4; codecs=avc1", "recording.mp4"},
		{"format not a plain token", "recording", "../x", "video/webm", "recording.webm"},
		{"format with a dot", "recording", ".mp4", "", "recording.mp4"},
		{"format too long", "recording", "mpeg4video", "audio/mpeg", "recording.mp3"},
		{"nothing known", "recording", "", "application/octet-stream", "recording.mp4"},
		{"thumbnail jpeg", "thumbnail", "", "image/jpeg", "thumbnail.jpg"},
		{"thumbnail png", "thumbnail", "", "image/png", "thumbnail.png"},
		{"thumbnail png with parameters", "thumbnail", "", "image/png; charset=x", "thumbnail.png"},
		{"thumbnail unknown", "thumbnail", "", "", "thumbnail.png"},
		{"thumbnail ignores format", "thumbnail", "mp4", "image/jpeg", "thumbnail.jpg"},
		{"transcript", "transcript", "", "application/json", "transcript.json"},
		{"summary", "summary", "mp4", "text/plain", "summary.json"},
		{"action items", "action_items", "", "", "action_items.json"},
		{"unknown kind", "../etc", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := archive.FileName(tc.kind, tc.format, tc.contentType); got != tc.want {
				t.Fatalf("FileName(%q, %q, %q) = %q, want %q", tc.kind, tc.format, tc.contentType, got, tc.want)
			}
		})
	}
}

func TestKinds(t *testing.T) {
	want := []string{"recording", "transcript", "summary", "action_items", "thumbnail"}
	if !slices.Equal(archive.Kinds, want) {
		t.Fatalf("Kinds = %q, want %q", archive.Kinds, want)
	}
	for _, k := range archive.Kinds {
		if archive.FileName(k, "", "") == "" {
			t.Errorf("no file name for kind %q", k)
		}
	}
}
