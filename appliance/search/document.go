package search

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
)

// Bounds of what one meeting contributes to the index.
const (
	maxTranscriptBytes = 16 << 20 // transcript.txt: longer ones are indexed up to here
	maxTextBytes       = 1 << 20  // summary and action items
)

// transcriptFile is the rendered transcript the index reads (docs/archive.md).
const transcriptFile = "transcript.txt"

// meeting is what the index knows of one meeting, read from its folder.
type meeting struct {
	ID           string
	Title        string
	StartsAt     time.Time
	Participants []archive.Participant
	Summary      string
	Actions      []string
	Lines        []line // transcript.txt, one per segment
}

// line is one transcript segment: "[hh:mm:ss] Speaker: text".
type line struct {
	At, Speaker, Text string
}

// parseLine splits a transcript.txt line "[hh:mm:ss] Speaker: text"
// (archive.RenderTranscript); a line of another shape (a raw transcript)
// is all text.
func parseLine(s string) line {
	if len(s) < 12 || s[0] != '[' {
		return line{Text: s}
	}
	end := strings.IndexByte(s, ']')
	if end < 9 || atSeconds(s[1:end]) < 0 || end+1 >= len(s) || s[end+1] != ' ' {
		return line{Text: s}
	}
	rest := s[end+2:]
	colon := strings.IndexByte(rest, ':')
	if colon < 0 {
		return line{Text: s}
	}
	return line{At: s[1:end], Speaker: rest[:colon], Text: strings.TrimPrefix(rest[colon+1:], " ")}
}

// textFiles are the files of a folder the index reads besides the manifest,
// by role: the summary and action items as the manifest names them, and
// transcript.txt.
func textFiles(man *archive.Manifest) (summary, actions string) {
	for name := range man.Files {
		switch strings.TrimSuffix(name, filepath.Ext(name)) {
		case "summary":
			summary = name
		case "action_items":
			actions = name
		}
	}
	return summary, actions
}

// fingerprint identifies the state of a meeting's folder as far as the
// index is concerned: size and modification time of manifest.json and of
// each text file it reads. A folder without a manifest has none ("").
func fingerprint(dir string) (string, error) {
	man, err := archive.ReadManifest(dir)
	if errors.Is(err, archive.ErrNoManifest) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	summary, actions := textFiles(man)
	var b strings.Builder
	for _, name := range []string{archive.ManifestName, summary, actions, transcriptFile} {
		if name == "" {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return "", fmt.Errorf("fingerprint %s: %w", dir, err)
		}
		fmt.Fprintf(&b, "%s:%d:%d;", name, fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String(), nil
}

// readMeeting reads the meeting in dir; archive.ErrNoManifest when there
// is none. Text files that are gone (pruned) are simply not there.
func readMeeting(id, dir string) (*meeting, error) {
	man, err := archive.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	m := &meeting{ID: id, Title: man.Title, StartsAt: man.StartsAt.Time, Participants: man.Participants}
	summary, actions := textFiles(man)
	if summary != "" {
		b, err := readBounded(filepath.Join(dir, summary), maxTextBytes)
		if err != nil {
			return nil, err
		}
		m.Summary = archive.ParseSummary(b)
	}
	if actions != "" {
		b, err := readBounded(filepath.Join(dir, actions), maxTextBytes)
		if err != nil {
			return nil, err
		}
		m.Actions = archive.ParseActionItems(b)
	}
	b, err := readBounded(filepath.Join(dir, transcriptFile), maxTranscriptBytes)
	if err != nil {
		return nil, err
	}
	if len(b) > 0 {
		// Every line, blank ones too, so that Lines[i] is line i+1 of the
		// file (Hit.Line, TranscriptLines).
		for _, s := range strings.Split(strings.TrimSuffix(strings.ToValidUTF8(string(b), ""), "\n"), "\n") {
			m.Lines = append(m.Lines, parseLine(s))
		}
	}
	return m, nil
}

// fields is the bleve document of m.
func (m *meeting) fields() map[string]any {
	var people, emails, speakers []string
	for _, p := range m.Participants {
		people = append(people, p.Name, p.Email)
		if p.Email != "" {
			emails = append(emails, strings.ToLower(strings.TrimSpace(p.Email)))
		}
	}
	var text strings.Builder
	for _, l := range m.Lines {
		if l.Speaker != "" && !slices.Contains(speakers, l.Speaker) {
			speakers = append(speakers, l.Speaker)
		}
		text.WriteString(l.Text)
		text.WriteByte('\n')
	}
	doc := map[string]any{
		fieldTitle:      m.Title,
		fieldPeople:     strings.Join(people, " "),
		fieldEmail:      emails,
		fieldSpeakers:   strings.Join(speakers, "\n"),
		fieldSummary:    m.Summary,
		fieldActions:    strings.Join(m.Actions, "\n"),
		fieldTranscript: text.String(),
	}
	if !m.StartsAt.IsZero() {
		doc[fieldStartsAt] = m.StartsAt.UTC().Format(time.RFC3339)
	}
	return doc
}

// size is about how many bytes of text m holds (for batch bounds).
func (m *meeting) size() int {
	n := len(m.Title) + len(m.Summary)
	for _, a := range m.Actions {
		n += len(a)
	}
	for _, l := range m.Lines {
		n += len(l.Text) + len(l.Speaker)
	}
	return n
}

// readBounded reads at most n bytes of path in one allocation of the
// file's size; a missing file is empty.
func readBounded(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	size := n
	if fi, err := f.Stat(); err == nil && fi.Size() < n {
		size = fi.Size()
	}
	b := make([]byte, size)
	got, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b[:got], nil
}

// atSeconds parses "hh:mm:ss" into seconds; -1 when it is not that.
func atSeconds(at string) int {
	parts := strings.Split(at, ":")
	if len(parts) != 3 {
		return -1
	}
	total := 0
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return -1
		}
		total = total*60 + n
	}
	return total
}
