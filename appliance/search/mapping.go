package search

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/mapping"
)

// The document's fields. Only title and starts_at are stored.
const (
	fieldTitle      = "title"
	fieldStartsAt   = "starts_at"
	fieldPeople     = "people"     // participants' names and e-mails, as words
	fieldEmail      = "email"      // participants' e-mails, whole and lower-cased
	fieldSpeakers   = "speakers"   // transcript speaker names
	fieldSummary    = "summary"    // the summary's text
	fieldActions    = "actions"    // action items, one per line
	fieldTranscript = "transcript" // transcript.txt's spoken text, one line per segment
	fieldPrint      = "fp"         // the folder's fingerprint (stored, not indexed): see sync.go
)

// textAnalyzer is English: possessives, lower case, stop words, Porter
// stems, so "pricing" finds "price" and "priced".
const textAnalyzer = en.AnalyzerName

// emailAnalyzer keeps an e-mail address whole, lower-cased.
const emailAnalyzer = "notekeeper_email"

// newMapping is the index mapping: one static document type, no dynamic
// fields, no _all field, no doc values (hits are ordered by score only).
func newMapping() (mapping.IndexMapping, error) {
	im := bleve.NewIndexMapping()
	err := im.AddCustomAnalyzer(emailAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     single.Name,
		"token_filters": []string{lowercase.Name},
	})
	if err != nil {
		return nil, err
	}
	im.DefaultAnalyzer = textAnalyzer
	im.StoreDynamic, im.IndexDynamic, im.DocValuesDynamic = false, false, false

	text := func(store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = textAnalyzer
		f.Store = store
		f.IncludeTermVectors = false // no phrase positions: half the size (see doc.go)
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	email := bleve.NewTextFieldMapping()
	email.Analyzer, email.Store, email.IncludeTermVectors, email.IncludeInAll, email.DocValues = emailAnalyzer, false, false, false, false
	starts := bleve.NewDateTimeFieldMapping()
	starts.Store, starts.IncludeInAll, starts.DocValues = true, false, false
	print := bleve.NewKeywordFieldMapping()
	print.Store, print.Index, print.IncludeInAll, print.DocValues, print.IncludeTermVectors = true, false, false, false, false

	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(fieldTitle, text(true))
	dm.AddFieldMappingsAt(fieldStartsAt, starts)
	dm.AddFieldMappingsAt(fieldPeople, text(false))
	dm.AddFieldMappingsAt(fieldEmail, email)
	dm.AddFieldMappingsAt(fieldSpeakers, text(false))
	dm.AddFieldMappingsAt(fieldSummary, text(false))
	dm.AddFieldMappingsAt(fieldActions, text(false))
	dm.AddFieldMappingsAt(fieldTranscript, text(false))
	dm.AddFieldMappingsAt(fieldPrint, print)
	im.DefaultMapping = dm
	im.DefaultField = fieldTranscript
	return im, nil
}
