package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// maxTextInput bounds what the text functions parse.
const maxTextInput = 32 << 20

// segment is one transcript segment. Start is in milliseconds; numbers
// arrive as integers or floats.
type segment struct {
	Speaker string          `json:"speaker"`
	Start   json.RawMessage `json:"start"`
	Text    string          `json:"text"`
}

// RenderTranscript renders a Nylas transcript as text (SPEC §5): one line
// per segment, "[hh:mm:ss] Speaker: text", for a speaker_labelled
// transcript; the text itself for a raw one. It also accepts a bare array of
// segments and a transcript array of strings. Generated text is untrusted:
// control characters are removed and a segment's line breaks become spaces.
func RenderTranscript(data []byte) (string, error) {
	if len(data) > maxTextInput {
		return "", errors.New("transcript over 32 MiB")
	}
	var doc struct {
		Type       string          `json:"type"`
		Transcript json.RawMessage `json:"transcript"`
	}
	body := bytes.TrimSpace(data)
	if len(body) > 0 && body[0] == '[' {
		doc.Transcript = body
	} else if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("render transcript: %w", err)
	}
	var raw string
	if err := json.Unmarshal(doc.Transcript, &raw); err == nil {
		return withNewline(clean(raw, true)), nil
	}
	var segs []json.RawMessage
	if err := json.Unmarshal(doc.Transcript, &segs); err != nil {
		return "", fmt.Errorf("render transcript: unknown shape (type %q)", doc.Type)
	}
	var b strings.Builder
	for _, rs := range segs {
		var s segment
		if err := json.Unmarshal(rs, &s); err != nil {
			var line string
			if json.Unmarshal(rs, &line) != nil {
				return "", fmt.Errorf("render transcript: segment %s", truncate(string(rs), 40))
			}
			s.Text = line
		}
		speaker := clean(s.Speaker, false)
		if speaker == "" {
			speaker = "Unknown speaker"
		}
		fmt.Fprintf(&b, "[%s] %s: %s\n", timestamp(s.Start), speaker, clean(s.Text, false))
	}
	return b.String(), nil
}

// timestamp renders a millisecond offset as hh:mm:ss; absent, negative or
// odd values are 00:00:00.
func timestamp(raw json.RawMessage) string {
	var ms float64
	if json.Unmarshal(raw, &ms) != nil || ms < 0 || ms > 1e12 {
		ms = 0
	}
	s := int64(ms / 1000)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// clean removes control characters; newlines and tabs survive when
// multiline, else they become spaces.
func clean(s string, multiline bool) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			if multiline {
				return r
			}
			return ' '
		case r == '\r':
			if multiline {
				return -1
			}
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s))
}

func withNewline(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// summaryKeys are where a summary object keeps its text.
var summaryKeys = []string{"summary", "text", "content", "overview"}

// ParseSummary turns a summary file into text, whatever its shape: a JSON
// string, an object holding the text under a common key (one level down
// too), an array of strings, or plain text.
func ParseSummary(data []byte) string {
	if len(data) > maxTextInput {
		data = data[:maxTextInput]
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return clean(string(data), true)
	}
	return clean(summaryText(v, 2), true)
}

func summaryText(v any, depth int) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		var parts []string
		for _, e := range t {
			if s := summaryText(e, depth); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "\n")
	case map[string]any:
		if depth == 0 {
			return ""
		}
		for _, k := range summaryKeys {
			if s := summaryText(t[k], depth-1); s != "" {
				return s
			}
		}
		for _, e := range t { // one level down, any key
			if m, ok := e.(map[string]any); ok {
				if s := summaryText(m, depth-1); s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// itemKeys are where an action-item object keeps its text; listKeys where
// an object keeps its list.
var (
	itemKeys = []string{"text", "action_item", "description", "title", "content"}
	listKeys = []string{"action_items", "items", "actions"}
)

// ParseActionItems turns an action-items file into a list of items,
// whatever its shape: an array of strings or of objects, an object holding
// such an array, or one string of lines (bullets and numbers trimmed).
func ParseActionItems(data []byte) []string {
	if len(data) > maxTextInput {
		data = data[:maxTextInput]
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return lines(string(data))
	}
	return items(v, 3)
}

func items(v any, depth int) []string {
	if depth == 0 {
		return nil
	}
	switch t := v.(type) {
	case string:
		return lines(t)
	case []any:
		var out []string
		for _, e := range t {
			switch x := e.(type) {
			case string:
				if s := clean(x, false); s != "" {
					out = append(out, s)
				}
			case map[string]any:
				for _, k := range itemKeys {
					if s, ok := x[k].(string); ok && clean(s, false) != "" {
						out = append(out, clean(s, false))
						break
					}
				}
			}
		}
		return out
	case map[string]any:
		for _, k := range listKeys {
			if got := items(t[k], depth-1); len(got) > 0 {
				return got
			}
		}
	}
	return nil
}

// lines splits text into items, trimming list markers.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = clean(l, false)
		for _, p := range []string{"- ", "* ", "• "} {
			l = strings.TrimPrefix(l, p)
		}
		if i := strings.IndexAny(l, ".)"); i > 0 && i <= 3 && strings.Trim(l[:i], "0123456789") == "" {
			l = strings.TrimSpace(l[i+1:])
		}
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
