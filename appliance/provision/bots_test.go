package provision_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/provision"
)

const meetLink = "https://meet.google.com/abc-defg-hij"

// joins counts the bot creates the stand-in received.
func joins(s *nylastestServer) int {
	n := 0
	for _, r := range s.Writes() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/notetakers") {
			n++
		}
	}
	return n
}

func TestBotJoinRetriedAfterATimeoutCreatesOneBot(t *testing.T) {
	cases := []struct {
		name  string
		setup func(s *nylastestServer, c *nylas.Client)
	}{
		{name: "answer later than the client's timeout", setup: func(s *nylastestServer, c *nylas.Client) {
			s.CreateDelay = 2 * time.Second
			c.HTTP = &http.Client{Timeout: 100 * time.Millisecond}
		}},
		{name: "connection dropped after the create", setup: func(s *nylastestServer, _ *nylas.Client) {
			s.DropAnswer(func(method, path string) bool { return method == "POST" && strings.HasSuffix(path, "/notetakers") })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := account(t)
			c := client(s)
			tc.setup(s, c)
			jn := &provision.Joiner{Nylas: c, Settle: 10 * time.Millisecond}
			j := provision.BotJoin{Grant: salesGrant, MeetingLink: meetLink, Name: "Ad-hoc Recorder"}

			nt, found, err := jn.Join(context.Background(), j)
			if err != nil {
				t.Fatalf("join: %v", err)
			}
			if !found || nt.ID == "" || nt.MeetingLink != meetLink {
				t.Errorf("join gave %+v (found %v), want the bot the lost answer was about", nt, found)
			}
			// The operator runs it again anyway.
			again, found, err := jn.Join(context.Background(), j)
			if err != nil || !found || again.ID != nt.ID {
				t.Errorf("second join: %+v found %v err %v, want bot %s found", again, found, err, nt.ID)
			}
			if bots := s.Notetakers(); len(bots) != 1 {
				t.Errorf("%d bots, want 1", len(bots))
			}
			if n := joins(s); n != 1 {
				t.Errorf("%d creates sent, want 1 (never retried blindly)", n)
			}
		})
	}
}

func TestBotJoinFindsABotListedWithoutAJoinTime(t *testing.T) {
	s := account(t)
	s.CreateDelay = 2 * time.Second
	c := client(s)
	c.HTTP = &http.Client{Timeout: 100 * time.Millisecond}
	jn := &provision.Joiner{Nylas: c, Settle: time.Millisecond}
	j := provision.BotJoin{Grant: salesGrant, MeetingLink: meetLink}
	if _, _, err := jn.Join(context.Background(), j); err != nil {
		t.Logf("first join: %v", err)
	}
	bots := s.Notetakers()
	if len(bots) != 1 {
		t.Fatalf("%d bots", len(bots))
	}
	s.SetNotetaker(bots[0]["id"].(string), "join_time", nil) // Nylas lists a join-now bot without one
	s.CreateDelay = 0
	nt, found, err := jn.Join(context.Background(), j)
	if err != nil || !found || nt.ID != bots[0]["id"] {
		t.Errorf("join again: %+v found %v err %v, want the bot already sent", nt, found, err)
	}
	if n := joins(s); n != 1 {
		t.Errorf("%d creates, want 1", n)
	}
}

func TestBotJoin(t *testing.T) {
	s := account(t)
	now := time.Now()
	jn := &provision.Joiner{Nylas: client(s), Settle: time.Millisecond}
	ctx := context.Background()

	at := now.Add(2 * time.Hour).Truncate(time.Second)
	nt, found, err := jn.Join(ctx, provision.BotJoin{Grant: salesGrant, MeetingLink: meetLink, At: at, Name: "Recorder"})
	if err != nil || found {
		t.Fatalf("join: %v (found %v)", err, found)
	}
	if nt.JoinTime != at.Unix() || nt.Name != "Recorder" || nt.CurrentState() != "scheduled" {
		t.Errorf("bot %+v", nt)
	}
	body := s.Writes()[0].Body
	if !strings.Contains(body, `"join_time":`) || !strings.Contains(body, `"meeting_link":"`+meetLink+`"`) {
		t.Errorf("create body %s", body)
	}

	cases := []struct {
		name      string
		join      provision.BotJoin
		wantFound bool
	}{
		{name: "same meeting and time, link spelt differently", join: provision.BotJoin{Grant: salesGrant, MeetingLink: "HTTPS://MEET.google.com/abc-defg-hij/", At: at.Add(time.Minute)}, wantFound: true},
		{name: "same meeting, another day", join: provision.BotJoin{Grant: salesGrant, MeetingLink: meetLink, At: at.Add(24 * time.Hour)}},
		{name: "another meeting", join: provision.BotJoin{Grant: salesGrant, MeetingLink: "https://meet.google.com/xyz-wxyz-xyz", At: at}},
		{name: "another bot name asked for", join: provision.BotJoin{Grant: salesGrant, MeetingLink: meetLink, At: at, Name: "Other"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, found, err := jn.Join(ctx, tc.join)
			if err != nil {
				t.Fatal(err)
			}
			if found != tc.wantFound || (found && got.ID != nt.ID) {
				t.Errorf("found %v (%s), want %v", found, got.ID, tc.wantFound)
			}
		})
	}

	t.Run("a cancelled bot does not count", func(t *testing.T) {
		if err := jn.Nylas.CancelNotetaker(ctx, salesGrant, nt.ID); err != nil {
			t.Fatal(err)
		}
		_, found, err := jn.Join(ctx, provision.BotJoin{Grant: salesGrant, MeetingLink: meetLink, At: at, Name: "Recorder"})
		if err != nil || found {
			t.Errorf("join after cancel: found %v err %v, want a new bot", found, err)
		}
	})
	t.Run("a past join time is refused and creates nothing", func(t *testing.T) {
		before := len(s.Notetakers())
		_, _, err := jn.Join(ctx, provision.BotJoin{Grant: salesGrant, MeetingLink: "https://zoom.us/j/1", At: now.Add(-time.Hour)})
		var e *nylas.Error
		if !errors.As(err, &e) || e.Status != 400 {
			t.Errorf("err %v, want a 400", err)
		}
		if len(s.Notetakers()) != before {
			t.Error("a bot was created")
		}
	})
}

func TestCancelAndLeave(t *testing.T) {
	s := account(t)
	c := client(s)
	ctx := context.Background()
	nt, err := c.CreateNotetaker(ctx, salesGrant, nylas.NotetakerCreate{MeetingLink: meetLink})
	if err != nil {
		t.Fatal(err)
	}
	var e *nylas.Error
	if err := c.LeaveNotetaker(ctx, salesGrant, nt.ID); !errors.As(err, &e) || e.Status != 409 {
		t.Errorf("leave of a scheduled bot: %v, want 409", err)
	}
	s.SetNotetakerState(nt.ID, "attending")
	if err := c.CancelNotetaker(ctx, salesGrant, nt.ID); !errors.As(err, &e) || e.Status != 409 {
		t.Errorf("cancel of an attending bot: %v, want 409", err)
	}
	if err := c.LeaveNotetaker(ctx, salesGrant, nt.ID); err != nil {
		t.Errorf("leave: %v", err)
	}
	if err := c.CancelNotetaker(ctx, salesGrant, "missing"); !errors.Is(err, nylas.ErrNotFound) {
		t.Errorf("cancel of an unknown bot: %v", err)
	}
	for _, r := range s.Requests() {
		if r.Method == "DELETE" && !strings.HasSuffix(r.Path, "/cancel") {
			t.Errorf("hard delete sent: %s", r.Path)
		}
	}
}
