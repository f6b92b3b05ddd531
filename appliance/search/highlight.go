package search

import (
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
)

// Line is one line of transcript.txt: "[hh:mm:ss] Speaker: text", or, for
// a raw transcript, only Text.
type Line struct {
	At      string // hh:mm:ss into the recording, "" when the line has none
	Seconds int    // At in seconds, -1 when there is none
	Speaker string
	Text    string
}

// TranscriptLines splits the text of transcript.txt into its lines; line i
// of the result is line i+1 of the file (Hit.Line numbers them so).
func TranscriptLines(text string) []Line {
	raw := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	out := make([]Line, 0, len(raw))
	for _, s := range raw {
		l := parseLine(s)
		secs := -1
		if l.At != "" {
			secs = atSeconds(l.At)
		}
		out = append(out, Line{At: l.At, Seconds: secs, Speaker: l.Speaker, Text: l.Text})
	}
	return out
}

// Highlighter marks a query's words in any text, with the analyzer of the
// index: the same stems a search matched ("pricing" marks "price").
type Highlighter struct{ m matcher }

var textAnalysis = func() analysis.Analyzer {
	return bleve.NewIndexMapping().AnalyzerNamed(textAnalyzer)
}()

// NewHighlighter returns a Highlighter of q's words (see Search).
func NewHighlighter(q string) *Highlighter {
	terms := map[string]bool{}
	var emails []string
	for _, w := range queryWords(q) {
		for _, tok := range textAnalysis.Analyze([]byte(w)) {
			terms[string(tok.Term)] = true
		}
		if strings.Contains(w, "@") {
			emails = append(emails, strings.ToLower(w))
		}
	}
	return &Highlighter{m: newMatcher(textAnalysis.Analyze, terms, emails)}
}

// Fragments splits the whole of text into plain and matching parts (one
// plain fragment when nothing matches).
func (h *Highlighter) Fragments(text string) []Fragment {
	if h == nil || h.m.distinct() == 0 {
		return []Fragment{{Text: text}}
	}
	spans, _ := h.m.spans(text)
	if len(spans) == 0 {
		return []Fragment{{Text: text}}
	}
	var out []Fragment
	pos := 0
	for _, s := range sortedSpans(spans) {
		if s[0] < pos {
			continue
		}
		if s[0] > pos {
			out = append(out, Fragment{Text: text[pos:s[0]]})
		}
		out = append(out, Fragment{Text: text[s[0]:s[1]], Match: true})
		pos = s[1]
	}
	if pos < len(text) {
		out = append(out, Fragment{Text: text[pos:]})
	}
	return out
}
