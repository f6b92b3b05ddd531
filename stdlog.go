package main

import (
	"context"
	"log"
	"log/slog"
	"strings"
)

// routeStdLog sends what libraries write with the standard log package
// (bleve's scorch reports a snapshot it could not load or rolled back from
// with log.Printf) to logger at Warn, so nothing reaches stderr unformatted.
// main calls it once with the commands' logger; serve again with its own.
func routeStdLog(logger *slog.Logger) {
	log.SetFlags(0)
	log.SetPrefix("")
	log.SetOutput(stdLogWriter{logger})
}

// stdLogWriter logs each write of the standard logger as one Warn record.
type stdLogWriter struct{ l *slog.Logger }

func (w stdLogWriter) Write(p []byte) (int, error) {
	w.l.Log(context.Background(), slog.LevelWarn, strings.TrimSpace(string(p)), slog.String("source", "log"))
	return len(p), nil
}
