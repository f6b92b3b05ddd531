package search

import (
	"log"
	"log/slog"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
)

var bleveLogOnce sync.Once

// routeBleveLog sends bleve's own log lines (it reports, for example, a
// snapshot it could not load and rolled back from) to logger at Warn, once
// per process: bleve has one global logger.
func routeBleveLog(logger *slog.Logger) {
	bleveLogOnce.Do(func() {
		bleve.SetLog(log.New(slogWriter{logger}, "", 0))
	})
}

// slogWriter is an io.Writer that logs each write as one Warn record.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Warn("search index (bleve): " + strings.TrimSpace(string(p)))
	return len(p), nil
}
