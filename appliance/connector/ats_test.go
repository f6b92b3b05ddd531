package connector

import (
	"strings"
	"testing"
	"time"
)

func TestFormatNotes_KeepsLinksAndMarkerPastTheLimit(t *testing.T) {
	n := &MeetingNotes{Title: "Interview with Dana", Summary: strings.Repeat("long ", NoteLimit), ActionItems: []string{"Send the offer"},
		RecordingURL: "https://notes.example/files/nt/recording.mp4?exp=1&sig=x", TranscriptURL: "https://notes.example/files/nt/transcript.txt?exp=1&sig=y"}
	text := FormatNotes(n, NotesMarker("nt"))
	if len(text) > NoteLimit || !strings.HasSuffix(text, NotesMarker("nt")) ||
		!strings.Contains(text, n.RecordingURL) || !strings.Contains(text, n.TranscriptURL) {
		t.Fatalf("note of %d bytes lost its tail:\n%s", len(text), text[len(text)-300:])
	}
}

func TestFormatStatus(t *testing.T) {
	iv := &Interview{Title: "Interview with Dana", Start: time.Date(2024, 7, 1, 14, 0, 0, 0, time.UTC), End: time.Date(2024, 7, 1, 14, 45, 0, 0, time.UTC),
		MeetingLink: "https://meet.example/x"}
	cases := []struct{ kind, first string }{
		{"scheduled", "Interview scheduled: Interview with Dana"},
		{"rescheduled", "Interview moved: Interview with Dana"},
		{"cancelled", "Interview cancelled: Interview with Dana"},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			text := FormatStatus(iv, tc.kind, Marker("bkg", tc.kind))
			if !strings.HasPrefix(text, tc.first) || !strings.Contains(text, "2024-07-01 14:00 – 14:45") ||
				!strings.HasSuffix(text, "notekeeper:booking=bkg:kind="+tc.kind) ||
				strings.Contains(text, iv.MeetingLink) != (tc.kind != "cancelled") {
				t.Fatalf("%q", text)
			}
		})
	}
}
