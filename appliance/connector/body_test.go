package connector_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/notekeeper/notekeeper/appliance/connector"
)

func TestBody(t *testing.T) {
	m := &connector.Meeting{NotetakerID: "nt1", Summary: strings.Repeat("Jo wants to renew — für zwei Jahre. ", 400),
		ActionItems:  []string{"Send the <quote>", "Book a follow-up"},
		RecordingURL: "https://notes.example.com/files/nt1/recording.mp4?exp=1&sig=a", TranscriptURL: "https://notes.example.com/files/nt1/transcript.txt?exp=1&sig=b"}
	cases := []struct {
		name   string
		format connector.Format
		limit  int
		items  bool // action items survive
	}{
		{"text, no limit", connector.Text, 0, true},
		{"html, no limit", connector.HTML, 0, true},
		{"text cut in the summary", connector.Text, 2000, true},
		{"html cut in the summary", connector.HTML, 2000, true},
		{"text cut into the action items", connector.Text, 200, false},
		{"html cut into the action items", connector.HTML, 400, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := connector.Body(m, tc.format, tc.limit)
			if tc.limit > 0 && len(b) > tc.limit {
				t.Fatalf("%d bytes over the limit %d", len(b), tc.limit)
			}
			if !utf8.ValidString(b) {
				t.Fatal("cut inside a character")
			}
			rec, tr := m.RecordingURL, m.TranscriptURL
			if tc.format == connector.HTML {
				rec, tr = strings.ReplaceAll(rec, "&", "&amp;"), strings.ReplaceAll(tr, "&", "&amp;")
				if strings.Contains(b, "<quote>") {
					t.Fatal("action item not escaped")
				}
			}
			if !strings.Contains(b, rec) || !strings.Contains(b, tr) || !strings.Contains(b, "[notekeeper:nt1]") {
				t.Fatalf("links or marker lost:\n%s", b)
			}
			if i := strings.Index(b, "Jo wants"); i >= 0 && strings.Index(b, rec) > i {
				t.Fatal("links are not first")
			}
			if got := strings.Contains(b, "Book a follow-up"); got != tc.items {
				t.Fatalf("action items kept %v, want %v:\n%s", got, tc.items, b)
			}
		})
	}
}
