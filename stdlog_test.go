package main

import (
	"bytes"
	"log"
	"log/slog"
	"os"
	"strings"
	"testing"
)

// TestRouteStdLog: a library's log.Printf (bleve's scorch) comes out as one
// formatted Warn record, not a bare line on stderr.
func TestRouteStdLog(t *testing.T) {
	var buf bytes.Buffer
	routeStdLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	t.Cleanup(func() { log.SetOutput(os.Stderr); log.SetFlags(log.LstdFlags) })
	log.Printf("unable to load snapshot, %v, continuing", "boom")
	got := buf.String()
	if !strings.Contains(got, "level=WARN") || !strings.Contains(got, `msg="unable to load snapshot, boom, continuing"`) ||
		strings.Count(got, "\n") != 1 {
		t.Fatalf("standard log line came out as %q", got)
	}
}
