package demo_test

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/demo"
)

func TestThumbnailIsAPNG(t *testing.T) {
	for _, m := range []*demo.Meeting{demo.Sales(), demo.Interview()} {
		b := m.Media()[4].Data
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", m.NotetakerID, err)
		}
		if r := img.Bounds(); r.Dx() != 320 || r.Dy() != 180 {
			t.Fatalf("%s: %v", m.NotetakerID, r)
		}
		if http.DetectContentType(b) != "image/png" {
			t.Fatalf("%s: detected %q", m.NotetakerID, http.DetectContentType(b))
		}
	}
	if bytes.Equal(demo.Sales().Media()[4].Data, demo.Interview().Media()[4].Data) {
		t.Fatal("both meetings have the same thumbnail")
	}
}

func TestRecordingIsAnMP4(t *testing.T) {
	b := demo.Recording()
	if got := http.DetectContentType(b); got != "video/mp4" {
		t.Fatalf("detected %q, want video/mp4", got)
	}
	if string(b[4:8]) != "ftyp" || !bytes.Contains(b[:4096], []byte("moov")) {
		t.Fatal("no ftyp box or no moov box near the start")
	}
	if len(b) > 100<<10 {
		t.Fatalf("%d bytes: keep the embedded recording small", len(b))
	}
}

// The generated transcript has the shape of Nylas' speaker-labelled
// fixture and renders to transcript.txt like one.
func TestTranscriptShape(t *testing.T) {
	fix, err := os.ReadFile("../testdata/fixtures/transcript-speaker-labelled.json")
	if err != nil {
		t.Fatal(err)
	}
	ours := demo.TranscriptJSON(demo.Sales().Transcript)
	if a, b := keys(t, fix), keys(t, ours); !slices.Equal(a, b) {
		t.Fatalf("keys %v, fixture %v", b, a)
	}
	txt, err := archive.RenderTranscript(ours)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[00:00:04] Jo Park: Happy to. We want to talk about the renewal terms."; !strings.Contains(txt, want) {
		t.Fatalf("transcript.txt:\n%s\nwant a line %q", txt, want)
	}
	if got := archive.ParseSummary(demo.SummaryJSON("Short.")); got != "Short." {
		t.Fatalf("summary parsed as %q", got)
	}
	if got := archive.ParseActionItems(demo.ActionItemsJSON([]string{"a", "b"})); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("action items parsed as %q", got)
	}
}

// keys lists every key path of a JSON document ("transcript[].speaker"),
// sorted and without repeats.
func keys(t *testing.T, b []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				out = append(out, prefix+k)
				walk(prefix+k+".", e)
			}
		case []any:
			for _, e := range x {
				walk(strings.TrimSuffix(prefix, ".")+"[].", e)
			}
		}
	}
	walk("", v)
	slices.Sort(out)
	return slices.Compact(out)
}
