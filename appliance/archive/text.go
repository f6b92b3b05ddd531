package archive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Nylas generates transcripts, summaries and action items with a model; the
// shapes of the last two are not documented and none is trusted.
// The functions here accept every shape seen or plausible, never panic,
// refuse inputs over MaxTextBytes, and return text free of control
// characters other than '\n' and '\t'.

// MaxTextBytes bounds the input of RenderTranscript, ParseSummary and
// ParseActionItems.
const MaxTextBytes = 32 << 20

// maxMillis bounds a segment's start (100 000 hours); beyond it, or when
// negative or not a number, the start renders as 00:00:00.
const maxMillis = 100_000 * 3600 * 1000

// RenderTranscript renders a Nylas transcript file as transcript.txt, one
// "[mm:ss] Speaker: text" line per segment. For
//
//	{"object":"transcript","type":"speaker_labelled",
//	 "transcript":[{"speaker":"Jo Park","start":4300,"end":9100,"text":"Happy to."}]}
//
// it writes one line per segment, "[hh:mm:ss] Speaker: text\n": start is
// in milliseconds, rounded down to the second; hours have two digits or
// more. For {"type":"raw","transcript":"…"} it returns the text, ending with
// a newline (an empty transcript renders as "").
//
// It also accepts a top-level array of segments, a top-level string (raw),
// a transcript array whose entries are strings (no speaker, no time), and
// any "type" as long as "transcript" is an array or a string. Within a
// segment: a missing or empty speaker is "Unknown speaker"; a start that is
// absent, negative, fractional (rounded down), a numeric string, or
// nonsense is handled (nonsense renders as 00:00:00); null entries are
// skipped; line breaks become single spaces; other control characters are
// removed (tabs stay). A raw transcript keeps its line breaks (CR LF and CR
// become LF).
//
// An error means the input is over MaxTextBytes, not JSON, or of an
// unknown shape (no "transcript", or one that is a number, object or null;
// a segment that is neither an object nor a string).
func RenderTranscript(data []byte) (string, error) {
	if len(data) > MaxTextBytes {
		return "", fmt.Errorf("render transcript: %d bytes, over the %d-byte bound", len(data), MaxTextBytes)
	}
	body := jsonBody(data)
	var list []byte
	switch first(body) {
	case '[':
		list = body
	case '"':
		return renderRaw(body)
	case '{':
		var doc struct {
			Type       string          `json:"type"`
			Transcript json.RawMessage `json:"transcript"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return "", fmt.Errorf("render transcript: %w", err)
		}
		t := bytes.TrimSpace(doc.Transcript)
		switch first(t) {
		case '[':
			list = t
		case '"':
			return renderRaw(t)
		default:
			return "", fmt.Errorf("render transcript: unknown shape (type %q, transcript %s)", clip(doc.Type, 40), clip(string(t), 40))
		}
	default:
		return "", fmt.Errorf("render transcript: not a JSON object, array or string")
	}
	var segs []json.RawMessage
	if err := json.Unmarshal(list, &segs); err != nil {
		return "", fmt.Errorf("render transcript: %w", err)
	}
	var b strings.Builder
	for i, raw := range segs {
		if err := renderSegment(&b, raw); err != nil {
			return "", fmt.Errorf("render transcript: segment %d: %w", i, err)
		}
	}
	return b.String(), nil
}

func renderRaw(s []byte) (string, error) {
	var text string
	if err := json.Unmarshal(s, &text); err != nil {
		return "", fmt.Errorf("render transcript: %w", err)
	}
	if text = cleanText(text); text != "" {
		text += "\n"
	}
	return text, nil
}

// renderSegment writes one segment's line to b.
func renderSegment(b *strings.Builder, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	var speaker, text string
	var start float64
	switch first(raw) {
	case 'n': // null
		return nil
	case '"':
		if err := json.Unmarshal(raw, &text); err != nil {
			return err
		}
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		speaker, text, start = scalarText(m["speaker"]), scalarText(m["text"]), millis(m["start"])
	default:
		return fmt.Errorf("neither an object nor a string: %s", clip(string(raw), 40))
	}
	if speaker = cleanLine(speaker); speaker == "" {
		speaker = "Unknown speaker"
	}
	s := int64(start / 1000)
	fmt.Fprintf(b, "[%02d:%02d:%02d] %s:", s/3600, s/60%60, s%60, speaker)
	if text = cleanLine(text); text != "" {
		b.WriteByte(' ')
		b.WriteString(text)
	}
	b.WriteByte('\n')
	return nil
}

// scalarText is a JSON string's value, or a number's literal; "" for
// anything else.
func scalarText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	switch c := first(raw); {
	case c == '"':
		var s string
		json.Unmarshal(raw, &s)
		return s
	case c == '-' || (c >= '0' && c <= '9'):
		return string(raw)
	}
	return ""
}

// millis reads a segment's start: a JSON number or a numeric string, in
// milliseconds; 0 when absent, invalid, negative or beyond maxMillis.
func millis(raw json.RawMessage) float64 {
	var ms float64
	if json.Unmarshal(raw, &ms) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0
		}
		var err error
		if ms, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return 0
		}
	}
	if math.IsNaN(ms) || ms < 0 || ms > maxMillis {
		return 0
	}
	return ms
}

// isBreak reports whether r ends a line somewhere.
func isBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// cleanLine makes s one line: line breaks become spaces, runs of spaces
// collapse to one, other control characters go (tabs stay), and the ends
// are trimmed.
func cleanLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case isBreak(r) || r == ' ':
			space = true
			continue
		case r == '\t':
		case unicode.IsControl(r):
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r) // an invalid byte becomes U+FFFD
	}
	return strings.TrimSpace(b.String())
}

// cleanText keeps s's lines (every line break becomes '\n'), removes other
// control characters (tabs stay) and trims the whole.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case isBreak(r):
			return '\n'
		case r == '\t':
			return r
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s))
}

// jsonBody trims whitespace and a UTF-8 byte-order mark.
func jsonBody(data []byte) []byte {
	return bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(data), []byte("\xef\xbb\xbf")))
}

func first(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strconv.Quote(s)
}

// summaryKeys are where a summary object keeps its text, in order of
// preference.
var summaryKeys = []string{"summary", "text", "content", "overview"}

// ParseSummary turns a summary file into plain text, whatever its shape,
// for the CRM and the ATS:
//
//   - a JSON string: the string;
//   - an object: the first of "summary", "text", "content", "overview" that
//     holds text (a string, an array of strings, or an object holding one
//     of those keys); failing that, the same search one level down, under
//     any key (in key order);
//   - an array: its strings (and objects' texts) joined with newlines;
//   - anything that is not JSON: the bytes as text.
//
// The result is trimmed, its line breaks are '\n' and it has no other
// control characters than '\t'. It is "" when nothing usable is found
// (numbers, unknown keys) and for inputs over MaxTextBytes. It never
// panics.
func ParseSummary(data []byte) string {
	if len(data) > MaxTextBytes {
		return ""
	}
	body := jsonBody(data)
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return cleanText(string(body))
	}
	return cleanText(summaryText(v, 1))
}

// summaryText finds the text in v; depth is how many more object levels
// it may descend.
func summaryText(v any, depth int) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		var parts []string
		for _, e := range t {
			var s string
			switch x := e.(type) {
			case string:
				s = x
			case map[string]any:
				s = summaryText(x, depth-1)
			}
			if s = strings.TrimSpace(s); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "\n")
	case map[string]any:
		if depth < 0 {
			return ""
		}
		for _, k := range summaryKeys {
			switch x := t[k].(type) {
			case string, []any:
				if s := summaryText(x, depth-1); strings.TrimSpace(s) != "" {
					return s
				}
			case map[string]any:
				if s := summaryText(x, depth-1); s != "" {
					return s
				}
			}
		}
		if depth == 0 {
			return ""
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if m, ok := t[k].(map[string]any); ok {
				if s := summaryText(m, depth-1); s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// itemKeys are where an action-item object keeps its text; listKeys where
// an object keeps its list of items. Both in order of preference.
var (
	itemKeys = []string{"text", "action_item", "description", "title", "content"}
	listKeys = []string{"action_items", "items", "actions"}
)

// ParseActionItems turns an action-items file into a list of items,
// whatever its shape, for the CRM and the ATS:
//
//   - an array of strings: them;
//   - an array of objects: each one's "text", "action_item", "description",
//     "title" or "content", the first that is a non-empty string;
//   - an object: the items of its "action_items", "items" or "actions" (two
//     levels at most), else its text under the keys above;
//   - a string, or anything that is not JSON: one item per line.
//
// Each item is one trimmed line without control characters (tabs stay),
// with a leading list marker removed ("- ", "* ", "• ", "+ ", "– ", "1. ",
// "2) ", "[ ] ", "[x] "); empty items are dropped. The result is nil when
// nothing usable is found and for inputs over MaxTextBytes. It never
// panics.
func ParseActionItems(data []byte) []string {
	if len(data) > MaxTextBytes {
		return nil
	}
	body := jsonBody(data)
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return lines(string(body))
	}
	return items(v, 2)
}

// items collects the items in v; depth bounds descent into objects.
func items(v any, depth int) []string {
	switch t := v.(type) {
	case string:
		return lines(t)
	case []any:
		var out []string
		for _, e := range t {
			switch x := e.(type) {
			case string:
				out = append(out, lines(x)...)
			case map[string]any:
				if s := itemText(x); s != "" {
					out = append(out, s)
				}
			}
		}
		return out
	case map[string]any:
		if depth > 0 {
			for _, k := range listKeys {
				if got := items(t[k], depth-1); len(got) > 0 {
					return got
				}
			}
		}
		for _, k := range itemKeys {
			if s, ok := t[k].(string); ok {
				if got := lines(s); len(got) > 0 {
					return got
				}
			}
		}
	}
	return nil
}

// itemText is an action-item object's text as one item; "" when it has
// none.
func itemText(m map[string]any) string {
	for _, k := range itemKeys {
		if s, ok := m[k].(string); ok {
			if s = trimMarker(cleanLine(s)); s != "" {
				return s
			}
		}
	}
	return ""
}

// lines splits text into items, one per non-empty line, markers trimmed.
func lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(cleanText(s), "\n") {
		if l = trimMarker(cleanLine(l)); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// trimMarker removes a leading bullet, number or checkbox from an item.
func trimMarker(l string) string {
	for _, p := range []string{"- ", "* ", "• ", "+ ", "– ", "— "} {
		if rest, ok := strings.CutPrefix(l, p); ok {
			l = strings.TrimSpace(rest)
			break
		}
	}
	if l == "-" || l == "*" || l == "•" || l == "+" {
		return ""
	}
	i := 0
	for i < len(l) && i < 3 && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	if i > 0 && i+1 < len(l) && (l[i] == '.' || l[i] == ')') && (l[i+1] == ' ' || l[i+1] == '\t') {
		l = strings.TrimSpace(l[i+2:])
	}
	for _, p := range []string{"[ ] ", "[x] ", "[X] "} {
		if rest, ok := strings.CutPrefix(l, p); ok {
			return strings.TrimSpace(rest)
		}
	}
	return l
}
