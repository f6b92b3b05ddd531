package search

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/notekeeper/notekeeper/appliance/archive"
)

// Bounds of a search.
const (
	MaxLimit    = 1000 // hits per call
	maxQueryLen = 1000 // bytes of query text; the rest is ignored
	maxWords    = 16   // words of a query; the rest are ignored
)

// Field boosts: a word in the title says more about a meeting than the
// same word somewhere in an hour of transcript.
var boosts = []struct {
	field string
	boost float64
}{
	{fieldTitle, 4}, {fieldPeople, 3}, {fieldSpeakers, 2}, {fieldSummary, 2}, {fieldActions, 2}, {fieldTranscript, 1},
}

// Hit is one meeting that matches a query.
type Hit struct {
	NotetakerID string        `json:"notetaker_id"`
	Title       string        `json:"title"`
	StartsAt    archive.Stamp `json:"starts_at"` // "" when unknown
	Score       float64       `json:"score"`
	// Snippet is the matching words in context, each match between
	// MarkStart and MarkEnd (see Fragments for the same, split).
	Snippet string `json:"snippet"`
	// Field is where the snippet comes from: title, participants,
	// summary, action_items or transcript.
	Field string `json:"field"`
	// Speaker, At and Line locate a transcript hit: who said it, when
	// (hh:mm:ss into the recording) and on which line of transcript.txt
	// (1-based).
	Speaker string `json:"speaker,omitempty"`
	At      string `json:"at,omitempty"`
	Line    int    `json:"line,omitempty"`
	// Fragments is Snippet split into plain and matching parts, for a UI
	// that marks them up itself.
	Fragments []Fragment `json:"-"`
}

// Fragment is a piece of a snippet; Match marks a matching word.
type Fragment struct {
	Text  string
	Match bool
}

// Results is one page of hits, best first.
type Results struct {
	Total uint64        `json:"total"` // matching meetings in all
	Hits  []Hit         `json:"hits"`
	Took  time.Duration `json:"took_ns"`
	// Partial: the index is still being synchronised with the archive
	// (after a start with a lost or damaged index), so meetings may be
	// missing.
	Partial bool `json:"partial,omitempty"`
}

// Search finds the meetings matching q, best match first, skipping offset and returning at most limit (1 to MaxLimit; 0
// means 20). Every word of q must match somewhere in a meeting (title,
// participants and their e-mails, speakers, summary, action items,
// transcript); words are stemmed ("pricing" finds "price"), case does not
// matter, stop words are ignored, and a word with an "@" also matches an
// e-mail address exactly. Quotes group words but are not phrase queries
// (the index keeps no positions). A query with nothing to search for
// returns no hits. ctx bounds the search.
func (ix *Index) Search(ctx context.Context, q string, limit, offset int) (*Results, error) {
	start := time.Now()
	if limit <= 0 {
		limit = 20
	}
	limit, offset = min(limit, MaxLimit), max(offset, 0)
	idx, err := ix.acquire()
	if err != nil {
		return nil, err
	}
	defer ix.mu.RUnlock()
	an := idx.Mapping().AnalyzerNamed(textAnalyzer)
	words := queryWords(q)
	terms := map[string]bool{}
	var emails []string
	var conj []query.Query
	for _, w := range words {
		var alts []query.Query
		for _, tok := range an.Analyze([]byte(w)) {
			terms[string(tok.Term)] = true
		}
		if len(an.Analyze([]byte(w))) > 0 {
			for _, f := range boosts {
				m := bleve.NewMatchQuery(w)
				m.SetField(f.field)
				m.SetBoost(f.boost)
				m.SetOperator(query.MatchQueryOperatorAnd)
				alts = append(alts, m)
			}
		}
		if strings.Contains(w, "@") {
			e := strings.ToLower(w)
			emails = append(emails, e)
			t := bleve.NewTermQuery(e)
			t.SetField(fieldEmail)
			t.SetBoost(6)
			alts = append(alts, t)
		}
		if len(alts) > 0 {
			conj = append(conj, bleve.NewDisjunctionQuery(alts...))
		}
	}
	res := &Results{Partial: ix.Syncing()}
	if len(conj) == 0 {
		res.Took = time.Since(start)
		return res, nil
	}
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(conj...), limit, offset, false)
	req.Fields = []string{fieldTitle, fieldStartsAt}
	sr, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	res.Total = sr.Total
	m := newMatcher(an.Analyze, terms, emails)
	for _, h := range sr.Hits {
		hit := Hit{NotetakerID: h.ID, Score: h.Score}
		hit.Title, _ = h.Fields[fieldTitle].(string)
		if s, ok := h.Fields[fieldStartsAt].(string); ok {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				hit.StartsAt = archive.Stamp{Time: t.UTC()}
			}
		}
		ix.snippet(&hit, m)
		res.Hits = append(res.Hits, hit)
	}
	res.Took = time.Since(start)
	return res, nil
}

// queryWords splits q into at most maxWords words on white space; quotes
// are dropped.
func queryWords(q string) []string {
	if len(q) > maxQueryLen {
		q = q[:maxQueryLen]
	}
	q = strings.ToValidUTF8(q, "")
	words := strings.FieldsFunc(q, func(r rune) bool { return unicode.IsSpace(r) || r == '"' || unicode.IsControl(r) })
	return words[:min(len(words), maxWords)]
}
