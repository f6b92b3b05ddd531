package appliance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/links"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/store"
)

// followupWindow is how long after an intent a send may be repeated: Nylas
// keeps an Idempotency-Key's answer for an hour, so a repeat inside that
// hour cannot send twice. An intent older than this whose outcome is
// unknown (the process died between send and record) is not sent again.
const followupWindow = 55 * time.Minute

// Followup sends one e-mail per archived meeting (docs/nylas-setup.md, [followup]):
// through the meeting's grant with Nylas messages/send, Idempotency-Key the
// Notetaker ID, to the meeting's internal participants (To "internal") or
// all of them ("all"), with the summary, the action items and signed
// /files links. A meeting without a summary gets none.
//
// Sent once: the store records the intent (with the recipients and the
// subject) before the send and the sent state after it. A task that runs
// again finds "sent" and stops; one that finds only an intent repeats the
// send with the same key and the same body (links signed as of the intent)
// inside Nylas' one-hour window, which Nylas answers from its cache, and
// past that window does not send, recording why. Failures retry like any
// task: 429, 5xx and network errors with back-off; other 4xx (403
// insufficient_scopes: the grant may not send mail) dead-letter with a
// delivery.failed alert.
type Followup struct {
	DB              *store.DB
	Nylas           *nylas.Client
	Links           *links.Signer
	DataDir         string
	InternalDomains []string
	To              string // "internal" (default) or "all"
	Subject         string // "{{title}}" is replaced; default "Notes: {{title}}"
	Logger          *slog.Logger
	Now             func() time.Time // default time.Now
}

// Register installs the follow-up handler on pool.
func (f *Followup) Register(pool *Pool) { (&Pipeline{Followup: f}).register(pool) }

// Schedule queues an archived meeting's follow-up; the pipeline calls it
// once the archive is complete (the handler checks again).
func (f *Followup) Schedule(_ context.Context, nt *store.Notetaker) error {
	return f.DB.Enqueue(store.TaskRef{Kind: store.TaskFollowup, Subject: nt.ID})
}

func (f *Followup) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Followup) handle(ctx context.Context, t *store.Task) error {
	nt, err := archivedNotetaker(f.DB, t.Subject)
	if nt == nil || err != nil {
		return err
	}
	prev, err := f.DB.Followup(nt.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		prev = nil
	case err != nil:
		return err
	case prev.State == store.FollowupSent:
		return nil
	case prev.State == store.FollowupIntent && f.now().Sub(prev.IntentAt) > followupWindow:
		f.Logger.Warn("follow-up outcome unknown; not sent again", slog.String("notetaker", nt.ID),
			slog.Time("intent_at", prev.IntentAt))
		return f.DB.FollowupSkipped(nt.ID, fmt.Sprintf("an attempt at %s may have sent it (no answer was recorded); not sent again",
			prev.IntentAt.UTC().Format(time.RFC3339)))
	}
	notes, err := f.notes(nt)
	if err != nil {
		return err
	}
	if notes.summary == "" {
		return f.DB.FollowupSkipped(nt.ID, "no summary")
	}
	if nt.GrantID == "" {
		return f.DB.FollowupSkipped(nt.ID, "standalone bot: no grant to send through")
	}

	var to []string
	var subject string
	if prev != nil && prev.State == store.FollowupIntent {
		to, subject = prev.To, prev.Subject // the same body as the first try
	} else {
		title, people, err := f.participants(ctx, nt)
		if err != nil {
			return err
		}
		to = f.recipients(people)
		subject = strings.ReplaceAll(cmp.Or(f.Subject, "Notes: {{title}}"), "{{title}}", cmp.Or(title, "your meeting"))
		subject = strings.Join(strings.Fields(subject), " ") // no line breaks from a title
	}
	if len(to) == 0 {
		return f.DB.FollowupSkipped(nt.ID, "no recipient")
	}
	intent, err := f.DB.FollowupIntent(nt.ID, nt.GrantID, subject, to)
	if err != nil {
		return err
	}
	if intent.State == store.FollowupSent {
		return nil
	}
	msg := nylas.Message{Subject: subject, Body: f.body(nt, subject, notes, intent.IntentAt)}
	for _, a := range to {
		msg.To = append(msg.To, nylas.Address{Email: a})
	}
	sent, err := f.Nylas.SendMessage(ctx, nt.GrantID, nt.ID, msg)
	var nerr *nylas.Error
	switch {
	case err == nil:
		return f.DB.FollowupSent(nt.ID, sent.ID)
	case errors.As(err, &nerr) && nerr.Status == http.StatusConflict && nerr.Type == "api.invalid_idempotent_request":
		// The key was used with another body: an earlier attempt reached Nylas.
		f.Logger.Warn("follow-up key used before; counted as sent", slog.String("notetaker", nt.ID), slog.Any("error", err))
		return f.DB.FollowupSent(nt.ID, "")
	case errors.As(err, &nerr) && nerr.Status >= 400 && nerr.Status < 500 &&
		nerr.Status != http.StatusTooManyRequests && nerr.Status != http.StatusConflict:
		return apperr.Permanent(fmt.Errorf("follow-up of %s: %w", nt.ID, err))
	case errors.As(err, &nerr) && nerr.RetryAfter > 0:
		return &apperr.RetryAfterError{After: nerr.RetryAfter, Err: err}
	}
	return err
}

// meetingNotes is what an e-mail says of a meeting.
type meetingNotes struct {
	summary     string
	actionItems []string
}

// notes reads the archived summary and action items.
func (f *Followup) notes(nt *store.Notetaker) (meetingNotes, error) {
	var n meetingNotes
	dir, err := archive.MediaDir(f.DataDir, nt.ID)
	if err != nil {
		return n, apperr.Permanent(err)
	}
	read := func(kind string) ([]byte, error) {
		a, ok := nt.Archived[kind]
		if !ok {
			return nil, nil
		}
		b, err := os.ReadFile(filepath.Join(dir, a.Name))
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil // pruned, or kept only in the bucket
		}
		return b, err
	}
	b, err := read("summary")
	if err != nil {
		return n, err
	}
	n.summary = strings.TrimSpace(archive.ParseSummary(b))
	if b, err = read("action_items"); err != nil {
		return n, err
	}
	n.actionItems = archive.ParseActionItems(b)
	return n, nil
}

// participants returns the meeting's title and people: from its booking
// when it has one, else from its calendar event.
func (f *Followup) participants(ctx context.Context, nt *store.Notetaker) (string, []store.Participant, error) {
	b, err := bookingOf(f.DB, nt)
	if err != nil {
		return "", nil, err
	}
	if b != nil && len(b.Participants) > 0 {
		return b.Title, b.Participants, nil
	}
	if nt.Event.EventID == "" {
		return "", nil, nil
	}
	calendar := nt.Event.CalendarID
	if calendar == "" && b != nil {
		calendar = b.OrganizerCalendarID
	}
	ev, err := f.Nylas.GetEvent(ctx, nt.GrantID, nt.Event.EventID, cmp.Or(calendar, "primary"))
	if errors.Is(err, nylas.ErrNotFound) {
		return "", nil, nil
	} else if err != nil {
		return "", nil, err
	}
	var ps []store.Participant
	if ev.Organizer.Email != "" {
		ps = append(ps, store.Participant{Email: ev.Organizer.Email, Name: ev.Organizer.Name})
	}
	for _, p := range ev.Participants {
		ps = append(ps, store.Participant{Email: p.Email, Name: p.Name})
	}
	return ev.Title, ps, nil
}

// recipients picks the addresses the e-mail goes to: colleagues only, or
// everyone with To "all"; lower case, once each, in meeting order.
func (f *Followup) recipients(ps []store.Participant) []string {
	var out []string
	for _, p := range ps {
		email, external := externalAddress(p.Email, f.InternalDomains)
		if !strings.Contains(email, "@") || slices.Contains(out, email) {
			continue
		}
		if f.To == "all" || !external {
			out = append(out, email)
		}
	}
	return out
}

// body is the HTML e-mail. Links are signed as of signedAt (the intent), so
// a repeated send has the same body as the first. Generated text is
// untrusted: everything is escaped.
func (f *Followup) body(nt *store.Notetaker, subject string, n meetingNotes, signedAt time.Time) string {
	lk := *f.Links
	lk.Now = func() time.Time { return signedAt }
	var b strings.Builder
	b.WriteString("<h2>" + html.EscapeString(subject) + "</h2>\n<h3>Summary</h3>\n")
	for _, para := range strings.Split(n.summary, "\n\n") {
		b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(strings.TrimSpace(para)), "\n", "<br>") + "</p>\n")
	}
	if len(n.actionItems) > 0 {
		b.WriteString("<h3>Action items</h3>\n<ul>\n")
		for _, it := range n.actionItems {
			b.WriteString("<li>" + html.EscapeString(it) + "</li>\n")
		}
		b.WriteString("</ul>\n")
	}
	var links []string
	if a, ok := nt.Archived["recording"]; ok {
		links = append(links, `<a href="`+html.EscapeString(lk.URL(nt.ID, a.Name))+`">Recording</a>`)
	}
	if _, ok := nt.Archived["transcript"]; ok {
		links = append(links, `<a href="`+html.EscapeString(lk.URL(nt.ID, "transcript.txt"))+`">Transcript</a>`)
	}
	if len(links) > 0 {
		b.WriteString("<p>" + strings.Join(links, " · ") + "</p>\n")
	}
	b.WriteString("<p><small>Sent by notekeeper.</small></p>\n")
	return b.String()
}
