package connector

import (
	"html"
	"strings"
	"time"
)

// Format is how a vendor takes a record's text.
type Format int

const (
	Text Format = iota // plain text with line breaks (Salesforce Description)
	HTML               // simple HTML (HubSpot, Pipedrive, Close notes)
)

// MarkerLine is the marker written into a record's text for id: vendors
// without a field for it are searched for this exact string, bracketed so
// that one Notetaker ID never matches inside another.
func MarkerLine(id string) string { return "[notekeeper:" + id + "]" }

// Body is the text of m's record: the recording and transcript links first,
// then the summary and the action items, then MarkerLine(m.NotetakerID). When
// it is over limit bytes (≤ 0: no limit) the summary is cut first, then
// action items are dropped, so the links and the marker always survive; the
// result is never over limit unless the links and marker alone are.
func Body(m *Meeting, f Format, limit int) string {
	var head, tail string
	if f == HTML {
		var links []string
		for _, l := range [][2]string{{"Recording", m.RecordingURL}, {"Transcript", m.TranscriptURL}} {
			if l[1] != "" {
				links = append(links, l[0]+`: <a href="`+html.EscapeString(l[1])+`">`+html.EscapeString(l[1])+`</a>`)
			}
		}
		if when := When(m); when != "" {
			links = append(links, "When: "+html.EscapeString(when))
		}
		if len(links) > 0 {
			head = "<p>" + strings.Join(links, "<br>") + "</p>"
		}
		tail = "<p>" + html.EscapeString(MarkerLine(m.NotetakerID)) + "</p>"
	} else {
		if m.RecordingURL != "" {
			head += "Recording: " + m.RecordingURL + "\n"
		}
		if m.TranscriptURL != "" {
			head += "Transcript: " + m.TranscriptURL + "\n"
		}
		if when := When(m); when != "" {
			head += "When: " + when + "\n"
		}
		if head != "" {
			head += "\n"
		}
		tail = "\n" + MarkerLine(m.NotetakerID)
	}
	summary, items := m.Summary, append([]string(nil), m.ActionItems...)
	budget, dropped := len(summary), false
	for {
		mid := renderMid(f, summary, items, dropped)
		total := len(head) + len(mid) + len(tail)
		if limit <= 0 || total <= limit {
			return head + mid + tail
		}
		over := total - limit
		switch {
		case budget > 0:
			// Shrink the raw summary by at least what is over; escaping
			// may make that not enough, so this loops.
			budget -= max(over, 1)
			summary = ""
			if budget > 0 {
				summary = Cut(m.Summary, "", budget)
			}
		case len(items) > 0:
			items, dropped = items[:len(items)-1], true
		default:
			return Cut(head, tail, limit)
		}
	}
}

// When is the meeting's time span in UTC ("2026-05-04 15:00–15:45 UTC"),
// "" when the start is unknown.
func When(m *Meeting) string {
	if m.StartsAt.IsZero() {
		return ""
	}
	s, e := m.StartsAt.UTC(), m.EndsAt.UTC()
	switch {
	case m.EndsAt.IsZero():
		return s.Format("2006-01-02 15:04 UTC")
	case s.Format(time.DateOnly) == e.Format(time.DateOnly):
		return s.Format("2006-01-02 15:04") + "–" + e.Format("15:04 UTC")
	default:
		return s.Format("2006-01-02 15:04") + " – " + e.Format("2006-01-02 15:04 UTC")
	}
}

func renderMid(f Format, summary string, items []string, dropped bool) string {
	var b strings.Builder
	if f == HTML {
		if summary != "" {
			b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(summary), "\n", "<br>") + "</p>")
		}
		if len(items) > 0 || dropped {
			b.WriteString("<p>Action items:</p><ul>")
			for _, it := range items {
				b.WriteString("<li>" + html.EscapeString(it) + "</li>")
			}
			if dropped {
				b.WriteString("<li>…</li>")
			}
			b.WriteString("</ul>")
		}
		return b.String()
	}
	if summary != "" {
		b.WriteString(summary + "\n")
	}
	if len(items) > 0 || dropped {
		if summary != "" {
			b.WriteString("\n")
		}
		b.WriteString("Action items:\n")
		for _, it := range items {
			b.WriteString("- " + it + "\n")
		}
		if dropped {
			b.WriteString("- …\n")
		}
	}
	return b.String()
}
