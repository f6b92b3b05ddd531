package admin

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/store"
)

// Bounds of what the detail page reads from disk and from the store.
const (
	maxTranscriptBytes = 256 << 10 // shown inline; the full file is a download away
	maxTextFileBytes   = 1 << 20   // summary and action items
	maxTimeline        = 200       // newest notifications of one meeting
	maxTimelineBody    = 1 << 20   // notification bodies parsed for their state
)

// detail is the meeting page: the row plus files, texts and the timeline.
type detail struct {
	*meeting
	CRMInfo             *store.CRMDelivery // what the CRM was told, nil when nothing
	Followup            state              // the [followup] e-mail
	Files               []file
	Transcript          string
	TranscriptTruncated bool
	Summary             string
	ActionItems         []string
	Timeline            []event
	TimelineOmitted     int // older notifications not shown
	// Set by player (player.go).
	Player       *player
	Lines        []transcriptLine
	Query        string            // ?q=: the search that led here
	SummaryParts []search.Fragment // the summary with the search words marked
}

// file is one archived file with its signed download link.
type file struct {
	Name        string
	Bytes       int64
	SHA256      string
	ContentType string
	ArchivedAt  time.Time
	URL         string // "" when there is no Links or the file is not on disk
	Missing     bool   // listed but not on disk (pruned by retention, or lost) nor in the bucket
	InBucket    bool   // stored in the [archive.s3] bucket: its link redirects there
}

// event is one notification in a meeting's timeline.
type event struct {
	Seq        uint64
	ID, Type   string
	ReceivedAt time.Time
	State      string // the object's state/status/meeting_state, as sent
	Error      string
}

// meetingDetail gathers the detail page of nt.
func (h *Handler) meetingDetail(nt *store.Notetaker) (*detail, error) {
	ix, err := h.loadIndex()
	if err != nil {
		return nil, err
	}
	m, err := h.meeting(nt, ix)
	if err != nil {
		return nil, err
	}
	d := &detail{meeting: m}
	if d.CRMInfo, err = crmDelivery(h.cfg.DB, nt.ID); err != nil {
		return nil, err
	}
	if d.Followup, err = h.followupState(nt, ix); err != nil {
		return nil, err
	}
	dir, err := archive.MediaDir(h.cfg.DataDir, nt.ID)
	if err != nil {
		return nil, err
	}
	if d.Files, err = h.files(nt.ID, dir); err != nil {
		return nil, err
	}
	b, truncated, err := readBounded(filepath.Join(dir, "transcript.txt"), maxTranscriptBytes)
	if err != nil {
		return nil, err
	}
	d.Transcript, d.TranscriptTruncated = strings.ToValidUTF8(string(b), ""), truncated
	if f, ok := nt.Archived["summary"]; ok {
		if b, _, err = readBounded(filepath.Join(dir, f.Name), maxTextFileBytes); err != nil {
			return nil, err
		}
		d.Summary = archive.ParseSummary(b)
	}
	if f, ok := nt.Archived["action_items"]; ok {
		if b, _, err = readBounded(filepath.Join(dir, f.Name), maxTextFileBytes); err != nil {
			return nil, err
		}
		d.ActionItems = archive.ParseActionItems(b)
	}
	d.Timeline, d.TimelineOmitted, err = h.timeline(nt.Seqs)
	return d, err
}

// files lists the manifest's files, plus transcript.txt, each with a signed
// link when it is on disk or in the bucket.
func (h *Handler) files(id, dir string) ([]file, error) {
	man, err := archive.ReadManifest(dir)
	if errors.Is(err, archive.ErrNoManifest) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []file
	for name, e := range man.Files {
		out = append(out, file{Name: name, Bytes: e.Bytes, SHA256: e.SHA256, ContentType: e.ContentType, ArchivedAt: e.ArchivedAt,
			InBucket: e.Object != ""})
	}
	if fi, err := os.Stat(filepath.Join(dir, "transcript.txt")); err == nil {
		out = append(out, file{Name: "transcript.txt", Bytes: fi.Size(), ContentType: "text/plain", ArchivedAt: fi.ModTime().UTC()})
	}
	slices.SortFunc(out, func(a, b file) int { return strings.Compare(a.Name, b.Name) })
	for i := range out {
		if _, err := os.Stat(filepath.Join(dir, out[i].Name)); err != nil && !out[i].InBucket {
			out[i].Missing = true
			continue
		}
		if h.cfg.Links != nil {
			out[i].URL = h.cfg.Links.URL(id, out[i].Name)
		}
	}
	return out, nil
}

// timeline reads the newest maxTimeline of seqs, newest first.
func (h *Handler) timeline(seqs []uint64) ([]event, int, error) {
	omitted := max(len(seqs)-maxTimeline, 0)
	var out []event
	for _, seq := range slices.Backward(seqs[omitted:]) {
		n, err := h.cfg.DB.Notification(seq)
		if errors.Is(err, store.ErrNotFound) {
			continue // pruned by retention
		} else if err != nil {
			return nil, 0, err
		}
		out = append(out, event{Seq: seq, ID: n.ID, Type: n.Type, ReceivedAt: n.ReceivedAt, State: objectState(n.Body), Error: n.Error})
	}
	return out, omitted, nil
}

// objectState picks what a notification said about the bot's state.
func objectState(body []byte) string {
	if len(body) > maxTimelineBody {
		return ""
	}
	var env struct {
		Data struct {
			Object struct {
				State        any `json:"state"`
				Status       any `json:"status"`
				MeetingState any `json:"meeting_state"`
			} `json:"object"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &env) != nil {
		return ""
	}
	o := env.Data.Object
	var parts []string
	for _, v := range []any{o.State, o.MeetingState} {
		if s, ok := v.(string); ok && s != "" {
			parts = append(parts, s)
		}
	}
	if s, ok := o.Status.(string); ok && s != "" && (len(parts) == 0 || parts[0] != s) {
		parts = append(parts, s)
	}
	return strings.Join(parts, " · ")
}

// readBounded reads at most n bytes of path; a missing file is empty.
func readBounded(path string, n int64) ([]byte, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, n+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > n {
		return b[:n], true, nil
	}
	return b, false, nil
}
