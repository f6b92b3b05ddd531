package admin

import (
	_ "embed"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/notekeeper/notekeeper/appliance/search"
)

//go:embed player.js
var playerJS []byte

func (h *Handler) handlePlayerJS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Write(playerJS)
}

// player is the meeting page's inline player.
type player struct {
	Audio  bool   // <audio> rather than <video>
	Src    string // the recording's signed /files link, relative to this origin
	Type   string // its content type
	Poster string // the thumbnail's signed link, "" when there is none
}

// transcriptLine is one transcript line on the meeting page.
type transcriptLine struct {
	N       int    // 1-based line number: the anchor #line-N
	At      string // hh:mm:ss, "" when the line has none
	Seconds int    // At in seconds (data-t), -1 when none
	Speaker string
	Parts   []search.Fragment // the text, search words marked
	Hit     bool              // the line the search hit points at
}

// player fills the meeting page's player and transcript lines: the
// recording through its signed link (Range works on /files, so the browser
// seeks), the thumbnail as poster, and the transcript with the words of
// ?q= marked and line ?line= as the hit.
func (h *Handler) player(d *detail, r *http.Request) {
	for _, f := range d.Files {
		if f.URL == "" {
			continue
		}
		base := strings.TrimSuffix(f.Name, "."+extOf(f.Name))
		switch base {
		case "recording":
			ct := f.ContentType
			if ct == "" && extOf(f.Name) == "mp3" {
				ct = "audio/mpeg"
			}
			if d.Player == nil {
				d.Player = &player{}
			}
			d.Player.Src, d.Player.Type, d.Player.Audio = localURL(f.URL), ct, strings.HasPrefix(ct, "audio/")
		case "thumbnail":
			if d.Player == nil {
				d.Player = &player{}
			}
			d.Player.Poster = localURL(f.URL)
		}
	}
	if d.Player != nil && d.Player.Src == "" {
		d.Player = nil // a thumbnail alone is no player
	}
	d.Query = strings.TrimSpace(r.URL.Query().Get("q"))
	if len(d.Query) > 200 {
		d.Query = d.Query[:200]
	}
	hitLine, _ := strconv.Atoi(r.URL.Query().Get("line"))
	hl := search.NewHighlighter(d.Query)
	for i, l := range search.TranscriptLines(d.Transcript) {
		if l.Text == "" && l.Speaker == "" {
			continue
		}
		d.Lines = append(d.Lines, transcriptLine{N: i + 1, At: l.At, Seconds: l.Seconds, Speaker: l.Speaker,
			Parts: hl.Fragments(l.Text), Hit: i+1 == hitLine})
	}
	if d.Query != "" {
		d.SummaryParts = hl.Fragments(d.Summary)
	}
}

// extOf is a file name's extension without the dot.
func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return ""
}

// localURL is a signed link's path and query: the /files route is served
// by the same server as the admin UI, and a same-origin link needs nothing
// from the CSP (public_url may name another host than the one the
// operator's browser uses).
func localURL(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	return u.RequestURI()
}
