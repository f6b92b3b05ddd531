package archive_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/notekeeper/notekeeper/appliance/archive"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestRenderTranscript_Golden renders each testdata/*.input and compares
// the result with the .golden file beside it (go test -update rewrites
// them; review the diff).
func TestRenderTranscript_Golden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.input")
	if err != nil || len(inputs) < 8 {
		t.Fatalf("%d inputs: %v", len(inputs), err)
	}
	for _, in := range inputs {
		t.Run(strings.TrimSuffix(filepath.Base(in), ".input"), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := archive.RenderTranscript(data)
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(in, ".input") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("got:\n%q\nwant:\n%q", got, want)
			}
		})
	}
}

// TestRenderTranscript_Fixture pins the transcript line format on the shared
// fixture, independently of the golden files.
func TestRenderTranscript_Fixture(t *testing.T) {
	data, err := os.ReadFile("testdata/speaker-labelled.input")
	if err != nil {
		t.Fatal(err)
	}
	got, err := archive.RenderTranscript(data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "\n[00:00:04] Jo Park: Happy to. We want to talk about the renewal terms.\n") {
		t.Fatalf("got %q", got)
	}
}

func TestRenderTranscript_Refuses(t *testing.T) {
	cases := []struct{ name, in string }{
		{"empty", ""},
		{"not JSON", "not json"},
		{"number", "42"},
		{"transcript a number", `{"transcript":42}`},
		{"transcript an object", `{"transcript":{"a":1}}`},
		{"transcript null", `{"type":"raw","transcript":null}`},
		{"transcript missing", `{"object":"transcript","type":"raw"}`},
		{"segment a number", `{"transcript":[{"text":"ok"},3]}`},
		{"top-level array of numbers", `[1,2]`},
		{"truncated", `{"transcript":[{"speaker":"Jo","text":"cut`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if out, err := archive.RenderTranscript([]byte(tc.in)); err == nil {
				t.Fatalf("rendered %q", out)
			}
		})
	}
}

// TestTextBounds: inputs over MaxTextBytes are refused, not parsed.
func TestTextBounds(t *testing.T) {
	big := append([]byte(`"`), bytes.Repeat([]byte("a"), archive.MaxTextBytes)...)
	big = append(big, '"')
	if _, err := archive.RenderTranscript(big); err == nil {
		t.Error("RenderTranscript accepted an oversized input")
	}
	if got := archive.ParseSummary(big); got != "" {
		t.Errorf("ParseSummary returned %d bytes for an oversized input", len(got))
	}
	if got := archive.ParseActionItems(big); got != nil {
		t.Errorf("ParseActionItems returned %d items for an oversized input", len(got))
	}
	justFits := big[2:] // plain text of exactly MaxTextBytes
	if got := archive.ParseSummary(justFits); len(got) != archive.MaxTextBytes {
		t.Errorf("ParseSummary at the bound: %d bytes", len(got))
	}
}

func TestParseSummary(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"JSON string", `"Jo wants to renew."`, "Jo wants to renew."},
		{"object summary", `{"summary":"Renewal agreed."}`, "Renewal agreed."},
		{"object text", `{"text":"By text."}`, "By text."},
		{"object content", `{"content":"By content."}`, "By content."},
		{"object overview", `{"overview":"By overview."}`, "By overview."},
		{"summary preferred", `{"overview":"o","content":"c","summary":"s"}`, "s"},
		{"blank summary falls through", `{"summary":"  ","text":"fallback"}`, "fallback"},
		{"summary holding an object", `{"summary":{"text":"Nested."}}`, "Nested."},
		{"summary holding an array", `{"summary":["One.","Two."]}`, "One.\nTwo."},
		{"one level down, any key", `{"data":{"content":"Down one."}}`, "Down one."},
		{"one level down, key order", `{"b":{"text":"B"},"a":{"text":"A"}}`, "A"},
		{"two levels down is too deep", `{"a":{"b":{"summary":"deep"}}}`, ""},
		{"array of strings", `["One.","Two."]`, "One.\nTwo."},
		{"array of objects", `[{"text":"One."},{"summary":"Two."},42]`, "One.\nTwo."},
		{"plain text", "Not JSON at all\n", "Not JSON at all"},
		{"plain text, CRLF and escapes", "Line one\r\nLine two\x1b[0m", "Line one\nLine two[0m"},
		{"plain text, invalid UTF-8", "caf\xe9", "caf\uFFFD"},
		{"control characters", `"bell\u0007 gone,\ttab kept"`, "bell gone,\ttab kept"},
		{"byte-order mark", "\xef\xbb\xbf\"after BOM\"", "after BOM"},
		{"unknown object", `{"x":1}`, ""},
		{"number", `42`, ""},
		{"null", `null`, ""},
		{"empty", ``, ""},
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
		{"array of objects", `[{"text":"Send the quote"},{"action_item":"Call Li"},{"description":"Draft"},{"title":"Review"},{"content":"File"}]`,
			[]string{"Send the quote", "Call Li", "Draft", "Review", "File"}},
		{"object key preference", `[{"title":"T","text":"X"}]`, []string{"X"}},
		{"object without text skipped", `[{"owner":"Jo"},{"text":""},{"text":"kept"}]`, []string{"kept"}},
		{"object with action_items", `{"action_items":["A","B"]}`, []string{"A", "B"}},
		{"object with items", `{"items":[{"text":"A"}]}`, []string{"A"}},
		{"object with actions", `{"actions":"- A\n- B"}`, []string{"A", "B"}},
		{"two levels", `{"action_items":{"items":["deep"]}}`, []string{"deep"}},
		{"object with text", `{"text":"- a\n- b"}`, []string{"a", "b"}},
		{"string of bullets", `"- First\n* Second\n• Third\n1. Fourth\n2) Fifth\n- [ ] Sixth\n[x] Seventh\n\n"`,
			[]string{"First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh"}},
		{"numbers that are not markers", `"1.5 hours of review\n2024 budget"`, []string{"1.5 hours of review", "2024 budget"}},
		{"plain text", "• One\r\n2) Two\n", []string{"One", "Two"}},
		{"strings with lines split", `["a\nb","c"]`, []string{"a", "b", "c"}},
		{"object text made one line", `[{"text":"multi\nline"}]`, []string{"multi line"}},
		{"empty entries dropped", `["", "  ", "-", "x"]`, []string{"x"}},
		{"control characters", `["\u0007bell","\u001b[1mbold"]`, []string{"bell", "[1mbold"}},
		{"nothing usable", `{"x":1}`, nil},
		{"number", `42`, nil},
		{"null", `null`, nil},
		{"empty", ``, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := archive.ParseActionItems([]byte(tc.in)); !slices.Equal(got, tc.want) || (tc.want == nil) != (got == nil) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// onlyTextControls reports whether s has no control characters other than
// '\n' and '\t'.
func onlyTextControls(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return false
		}
	}
	return true
}

func FuzzRenderTranscript(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.input")
	for _, in := range inputs {
		b, _ := os.ReadFile(in)
		f.Add(b)
	}
	f.Add([]byte(`[{"speaker":{"a":1},"start":[1],"text":null},"x",null]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := archive.RenderTranscript(data)
		if err != nil {
			if out != "" {
				t.Fatalf("output %q with error %v", out, err)
			}
			return
		}
		if !onlyTextControls(out) {
			t.Fatalf("control character in %q", out)
		}
		if out != "" && !strings.HasSuffix(out, "\n") {
			t.Fatalf("output %q does not end with a newline", out)
		}
		if again, _ := archive.RenderTranscript(data); again != out {
			t.Fatal("output not deterministic")
		}
	})
}

func FuzzParseActionItems(f *testing.F) {
	for _, s := range []string{`["a","b"]`, `[{"text":"a"}]`, `{"items":["x"]}`, `{"action_items":{"items":["y"]}}`,
		`"- a\n- b"`, "plain\r\n1. x", `{"summary":{"text":"s"}}`, "\xef\xbb\xbf[\"\\u0007\"]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, item := range archive.ParseActionItems(data) {
			if item == "" || item != strings.TrimSpace(item) || strings.ContainsAny(item, "\n\r") || !onlyTextControls(item) {
				t.Fatalf("bad item %q", item)
			}
		}
		s := archive.ParseSummary(data)
		if s != strings.TrimSpace(s) || strings.Contains(s, "\r") || !onlyTextControls(s) {
			t.Fatalf("bad summary %q", s)
		}
	})
}
