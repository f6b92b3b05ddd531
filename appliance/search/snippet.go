package search

import (
	"cmp"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
)

// MarkStart and MarkEnd surround each matching word of Hit.Snippet. They
// are brackets no meeting text uses, so a UI can replace them with <mark>
// and </mark> after escaping the rest, and a terminal shows them as is.
const (
	MarkStart = "⟦"
	MarkEnd   = "⟧"
)

// Snippet window: this many bytes of context before the first match, and
// about this many in all.
const (
	snippetBefore = 60
	snippetLen    = 220
)

// matcher finds a query's words in a text with the analyzer that indexed
// it: the same tokens, stems and offsets.
type matcher struct {
	analyze func([]byte) analysis.TokenStream
	terms   map[string]bool // analysed query terms
	emails  []string        // query words with an "@", lower case
	probes  []string        // see newMatcher
}

// newMatcher returns a matcher of terms and emails. Its probes are
// lower-case prefixes of the terms (a stem less its last letter: Porter
// stems are prefixes of their words but for a final y→i or e): a text that
// contains none of them cannot match and is not analysed, which keeps
// snippets of long transcripts cheap.
func newMatcher(analyze func([]byte) analysis.TokenStream, terms map[string]bool, emails []string) matcher {
	m := matcher{analyze: analyze, terms: terms, emails: emails}
	for t := range terms {
		if r := []rune(t); len(r) > 3 {
			t = string(r[:len(r)-1])
		}
		m.probes = append(m.probes, t)
	}
	m.probes = append(m.probes, emails...)
	return m
}

// distinct is how many distinct things the query looks for.
func (m matcher) distinct() int { return len(m.terms) + len(m.emails) }

// spans returns the byte ranges of text that match, and how many distinct
// query terms they cover.
func (m matcher) spans(text string) ([][2]int, int) {
	lower := strings.ToLower(text)
	if !slices.ContainsFunc(m.probes, func(p string) bool { return strings.Contains(lower, p) }) {
		return nil, 0
	}
	var out [][2]int
	seen := map[string]bool{}
	for _, tok := range m.analyze([]byte(text)) {
		if t := string(tok.Term); m.terms[t] {
			out = append(out, [2]int{tok.Start, tok.End})
			seen[t] = true
		}
	}
	for _, e := range m.emails {
		if i := strings.Index(lower, e); i >= 0 && len(lower) == len(text) {
			out = append(out, [2]int{i, i + len(e)})
			seen["@"+e] = true
		}
	}
	return out, len(seen)
}

// unit is one piece of a meeting a snippet can come from.
type unit struct {
	field, text string
	speaker, at string
	line        int
}

// snippet fills hit's snippet from the meeting's folder: the unit (summary,
// an action item, a transcript line, the participants, the title) that
// matches the most distinct query words, earliest in that order on a tie.
// A folder that cannot be read leaves the snippet empty.
func (ix *Index) snippet(hit *Hit, m matcher) {
	mt, err := readMeeting(hit.NotetakerID, filepath.Join(ix.DataDir, "media", hit.NotetakerID))
	if err != nil {
		return
	}
	units := []unit{{field: "summary", text: mt.Summary}}
	for _, a := range mt.Actions {
		units = append(units, unit{field: "action_items", text: a})
	}
	for i, l := range mt.Lines {
		units = append(units, unit{field: "transcript", text: l.Text, speaker: l.Speaker, at: l.At, line: i + 1})
	}
	var people []string
	for _, p := range mt.Participants {
		switch {
		case p.Name != "" && p.Email != "":
			people = append(people, p.Name+" <"+p.Email+">")
		default:
			people = append(people, p.Name+p.Email)
		}
	}
	units = append(units, unit{field: "participants", text: strings.Join(people, ", ")}, unit{field: "title", text: mt.Title})

	best, bestN := -1, 0
	var bestSpans [][2]int
	for i, u := range units {
		if u.text == "" {
			continue
		}
		sp, n := m.spans(u.text)
		if n > bestN {
			best, bestN, bestSpans = i, n, sp
			if n == m.distinct() {
				break // nothing later can do better
			}
		}
	}
	if best < 0 {
		// Only a speaker's name matched: show their first line.
		for i, l := range mt.Lines {
			if sp, n := m.spans(l.Speaker); n > 0 {
				u := unit{field: "transcript", text: l.Speaker + ": " + l.Text, speaker: l.Speaker, at: l.At, line: i + 1}
				hit.Field, hit.Speaker, hit.At, hit.Line = u.field, u.speaker, u.at, u.line
				hit.Fragments = cut(u.text, sp)
				hit.Snippet = join(hit.Fragments)
				return
			}
		}
		return
	}
	u := units[best]
	hit.Field, hit.Speaker, hit.At, hit.Line = u.field, u.speaker, u.at, u.line
	hit.Fragments = cut(u.text, bestSpans)
	hit.Snippet = join(hit.Fragments)
}

// cut is the window of text around its first span, split into plain and
// matching fragments, with "…" where text was cut off.
func cut(text string, spans [][2]int) []Fragment {
	if len(spans) == 0 {
		return []Fragment{{Text: clipText(text, snippetLen)}}
	}
	first := spans[0]
	for _, s := range spans {
		if s[0] < first[0] {
			first = s
		}
	}
	from := max(0, first[0]-snippetBefore)
	if from > 0 {
		if i := strings.IndexByte(text[from:first[0]], ' '); i >= 0 {
			from += i + 1
		}
	}
	to := max(min(len(text), from+snippetLen), first[1])
	if to < len(text) {
		if i := strings.LastIndexByte(text[first[1]:to], ' '); i >= 0 {
			to = first[1] + i
		}
	}
	for from > 0 && !utf8.RuneStart(text[from]) {
		from++
	}
	for to < len(text) && !utf8.RuneStart(text[to]) {
		to--
	}
	var out []Fragment
	if from > 0 {
		out = append(out, Fragment{Text: "…"})
	}
	pos := from
	for _, s := range sortedSpans(spans) {
		if s[0] < pos || s[1] > to {
			continue
		}
		if s[0] > pos {
			out = append(out, Fragment{Text: text[pos:s[0]]})
		}
		out = append(out, Fragment{Text: text[s[0]:s[1]], Match: true})
		pos = s[1]
	}
	if pos < to {
		out = append(out, Fragment{Text: text[pos:to]})
	}
	if to < len(text) {
		out = append(out, Fragment{Text: "…"})
	}
	return out
}

// sortedSpans orders spans by start and merges overlapping ones (an
// e-mail match covers the words it is made of).
func sortedSpans(spans [][2]int) [][2]int {
	s := append([][2]int(nil), spans...)
	slices.SortFunc(s, func(a, b [2]int) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(b[1], a[1])) })
	var out [][2]int
	for _, sp := range s {
		if n := len(out); n > 0 && sp[0] < out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], sp[1])
			continue
		}
		out = append(out, sp)
	}
	return out
}

// join renders fragments with the match markers.
func join(fs []Fragment) string {
	var b strings.Builder
	for _, f := range fs {
		if f.Match {
			b.WriteString(MarkStart + f.Text + MarkEnd)
		} else {
			b.WriteString(f.Text)
		}
	}
	return b.String()
}

// clipText is text cut to about n bytes at a rune boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
