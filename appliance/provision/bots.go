package provision

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/store"
)

// BotJoin asks for one ad-hoc bot (`notekeeper bot join`).
type BotJoin struct {
	Grant       string
	MeetingLink string
	At          time.Time // zero: join now
	Name        string    // "": Nylas' default name
}

// joinWindow is how far from the asked join time a bot already sent to the
// same meeting counts as this join's.
const joinWindow = 15 * time.Minute

// liveStates are the states of a bot still on its way to, or in, its
// meeting: one of these for the same link and time is the bot a join would
// create.
var liveStates = []string{"scheduled", "connecting", "waiting_for_entry", "attending"}

// Joiner sends ad-hoc bots without ever sending one twice. Nylas does not
// deduplicate bots and takes no Idempotency-Key for them, and the client
// does not retry a create after a timeout; so a join first lists the
// grant's bots around the join time and takes a live one with the same
// meeting link (and name, when one is given) as already done, and after a
// create that ended without an answer it looks again before reporting the
// failure. Running the same join again after any failure is therefore safe:
// it finds the bot the lost answer was about.
type Joiner struct {
	Nylas *nylas.Client
	Now   func() time.Time // default time.Now
	// Settle is how long to wait before looking for a bot after a create
	// that got no answer; default 2s.
	Settle time.Duration
}

// Join sends j's bot, or returns the live bot already sent for it (found
// true).
//
// Errors: a refused join (*nylas.Error, e.g. 400 for a past time); a join
// that may have reached Nylas without an answer and whose bot cannot be
// found yet, saying to run it again; a failed lookup; ctx's error.
func (jn *Joiner) Join(ctx context.Context, j BotJoin) (nt *nylas.Notetaker, found bool, err error) {
	if j.MeetingLink == "" {
		return nil, false, errors.New("bot join: a meeting link is required")
	}
	now := time.Now
	if jn.Now != nil {
		now = jn.Now
	}
	target := j.At
	if target.IsZero() {
		target = now()
	}
	if nt, err := jn.find(ctx, j, target); err != nil || nt != nil {
		return nt, nt != nil, err
	}
	req := nylas.NotetakerCreate{MeetingLink: j.MeetingLink, Name: j.Name}
	if !j.At.IsZero() {
		req.JoinTime = j.At.Unix()
	}
	created, err := jn.Nylas.CreateNotetaker(ctx, j.Grant, req)
	if err == nil {
		return created, false, nil
	}
	if !mayHaveActed(err) {
		return nil, false, fmt.Errorf("bot join: %w", err)
	}
	settle := jn.Settle
	if settle <= 0 {
		settle = 2 * time.Second
	}
	select {
	case <-time.After(settle):
	case <-ctx.Done():
		return nil, false, fmt.Errorf("bot join: %w (the join may have reached Nylas: run it again to find its bot)", err)
	}
	if nt, ferr := jn.find(ctx, j, target); ferr == nil && nt != nil {
		return nt, true, nil
	}
	return nil, false, fmt.Errorf("bot join: %w (the join may have reached Nylas: run the same command again, it looks for the bot before sending another)", err)
}

// find returns a live bot of j.Grant for the same meeting link joining
// within joinWindow of target, nil when there is none. For a join "now",
// whose bot Nylas may list without a join time ([UNCONFIRMED]), the newest
// page of bots is searched too, by creation time.
func (jn *Joiner) find(ctx context.Context, j BotJoin, target time.Time) (*nylas.Notetaker, error) {
	lo, hi := target.Add(-joinWindow).Unix(), target.Add(joinWindow).Unix()
	link := sameLink(j.MeetingLink)
	ours := func(n *nylas.Notetaker) bool {
		return sameLink(n.MeetingLink) == link && slices.Contains(liveStates, n.CurrentState()) && (j.Name == "" || n.Name == j.Name)
	}
	var match *nylas.Notetaker
	err := jn.Nylas.EachNotetaker(ctx, j.Grant, nylas.ListQuery{Limit: 200, JoinTimeStart: lo, JoinTimeEnd: hi}, func(n *nylas.Notetaker) error {
		if match == nil && ours(n) {
			c := *n
			match = &c
		}
		return nil
	})
	if err == nil && match == nil && j.At.IsZero() {
		var recent []nylas.Notetaker
		recent, _, err = jn.Nylas.ListNotetakers(ctx, j.Grant, nylas.ListQuery{Limit: 200})
		for i := range recent {
			n := &recent[i]
			if match == nil && ours(n) && n.JoinTime == 0 && n.CreatedAt >= lo && n.CreatedAt <= hi {
				match = n
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bot join: look for a bot already sent: %w", err)
	}
	return match, nil
}

// sameLink normalises a meeting link for comparison: scheme and host lower
// case, no trailing slash, no fragment.
func sameLink(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return strings.TrimSpace(s)
	}
	u.Scheme, u.Host, u.Fragment = strings.ToLower(u.Scheme), strings.ToLower(u.Host), ""
	u.Path = strings.TrimRight(u.Path, "/")
	return u.String()
}

// Record is the store's record of a bot Join sent (or found) for grant.
func Record(nt *nylas.Notetaker, grant string) store.Notetaker {
	bot := store.Notetaker{ID: nt.ID, GrantID: cmp.Or(nt.GrantID, grant), MeetingLink: nt.MeetingLink,
		MeetingProvider: nt.MeetingProvider, State: nt.CurrentState(),
		Event: store.EventLink{EventID: nt.Event.EventID, CalendarID: nt.CalendarID}}
	if nt.JoinTime > 0 {
		bot.JoinTime = time.Unix(nt.JoinTime, 0).UTC()
	}
	return bot
}

// EachGrant runs call with grant, or when grant is "" with each of grants
// and then "" (a standalone bot), until one does not answer
// nylas.ErrNotFound: cancel and leave find the bot wherever it was sent.
func EachGrant(grants []string, grant string, call func(grant string) error) error {
	try := []string{grant}
	if grant == "" {
		try = append(slices.Clone(grants), "")
	}
	var err error
	for _, g := range try {
		if err = call(g); err == nil || !errors.Is(err, nylas.ErrNotFound) {
			return err
		}
	}
	return err
}
