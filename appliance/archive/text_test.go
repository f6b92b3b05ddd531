package archive_test

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/notekeeper/notekeeper/appliance/archive"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestRenderTranscript_Golden renders each testdata/*.input and compares it
// with the .golden beside it (go test -update rewrites them).
func TestRenderTranscript_Golden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/*.input")
	if len(inputs) < 4 {
		t.Fatalf("%d inputs", len(inputs))
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, _ := os.ReadFile(in)
			got, err := archive.RenderTranscript(data)
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(in, ".input") + ".golden"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestRenderTranscript_Refuses(t *testing.T) {
	for _, in := range []string{`{"transcript":42}`, `not json`, `{"transcript":{"a":1}}`} {
		if _, err := archive.RenderTranscript([]byte(in)); err == nil {
			t.Errorf("%s rendered", in)
		}
	}
}

func TestParseSummary(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"string", `"Jo wants to renew."`, "Jo wants to renew."},
		{"object summary", `{"summary":"Renewal agreed."}`, "Renewal agreed."},
		{"object nested", `{"data":{"text":"Nested."}}`, "Nested."},
		{"array", `["One.","Two."]`, "One.\nTwo."},
		{"plain text", "Not JSON at all\n", "Not JSON at all"},
		{"control characters", `"bell\u0007 gone"`, "bell gone"},
		{"unknown object", `{"x":1}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := archive.ParseSummary([]byte(tc.in)); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseActionItems(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"array of strings", `["Send the quote","Book a follow-up"]`, []string{"Send the quote", "Book a follow-up"}},
		{"array of objects", `[{"text":"Send the quote"},{"description":"Call Li"}]`, []string{"Send the quote", "Call Li"}},
		{"object with items", `{"action_items":["A","B"]}`, []string{"A", "B"}},
		{"string of bullets", `"- First\n* Second\n1. Third\n\n"`, []string{"First", "Second", "Third"}},
		{"plain text", "• One\n2) Two", []string{"One", "Two"}},
		{"empty entries dropped", `["", "  ", "x"]`, []string{"x"}},
		{"nothing usable", `{"x":1}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := archive.ParseActionItems([]byte(tc.in)); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzRenderTranscript(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.input")
	for _, in := range inputs {
		b, _ := os.ReadFile(in)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := archive.RenderTranscript(data)
		if err != nil {
			return
		}
		for _, r := range out {
			if unicode.IsControl(r) && r != '\n' && r != '\t' {
				t.Fatalf("control character %U in output", r)
			}
		}
	})
}

func FuzzParseActionItems(f *testing.F) {
	for _, s := range []string{`["a","b"]`, `[{"text":"a"}]`, `{"items":["x"]}`, `"- a\n- b"`, "plain"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, item := range archive.ParseActionItems(data) {
			if strings.TrimSpace(item) == "" || strings.ContainsAny(item, "\n\r") {
				t.Fatalf("bad item %q", item)
			}
		}
		_ = archive.ParseSummary(data)
	})
}
