package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/store"
)

// serve opens a Server for s and returns a Client dialled to it.
func serve(t *testing.T, s *Service) *Client {
	t.Helper()
	srv := NewServer(s, datadir.SocketPath(s.DataDir))
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	c, err := Dial(srv.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestClient_SameAnswersAsService: every operation through the socket gives
// what the Service gives directly.
func TestClient_SameAnswersAsService(t *testing.T) {
	s := newTestService(t)
	populate(t, s)
	archiveMeeting(t, s.DataDir, "nt-1", map[string]string{"summary.json": "{}"})
	c := serve(t, s)
	ctx := context.Background()

	fi, err := os.Stat(datadir.SocketPath(s.DataDir))
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("socket: %v %v", fi.Mode(), err)
	}
	for _, tc := range []struct {
		name string
		call func(op Operator) (any, error)
	}{
		{"status", func(op Operator) (any, error) {
			st, err := op.Status(ctx)
			if err == nil {
				st.DiskFreeBytes = 0 // changes between the two calls
			}
			return st, err
		}},
		{"events", func(op Operator) (any, error) {
			var out []Event
			err := op.Events(ctx, EventFilter{Type: "notetaker"}, func(e Event) error { out = append(out, e); return nil })
			return out, err
		}},
		{"tasks", func(op Operator) (any, error) { return op.Tasks(ctx, false) }},
		{"failed tasks", func(op Operator) (any, error) { return op.Tasks(ctx, true) }},
		{"verify", func(op Operator) (any, error) { return op.Verify(ctx) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := tc.call(s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalize(t, got), normalize(t, want)) {
				t.Fatalf("through the socket %+v, direct %+v", got, want)
			}
		})
	}

	t.Run("backup", func(t *testing.T) {
		var buf bytes.Buffer
		if err := c.Backup(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		if names := tarNames(t, buf.Bytes()); len(names) < 3 || names[0] != datadir.DBFile {
			t.Fatalf("backup through the socket holds %v", names)
		}
	})
	t.Run("retry unknown", func(t *testing.T) {
		if err := c.Retry(ctx, "notetaker/nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("err %v, want ErrNotFound", err)
		}
	})
	t.Run("retry all failed", func(t *testing.T) {
		n, err := c.RetryAllFailed(ctx)
		if err != nil || n != 1 {
			t.Fatalf("retried %d, %v", n, err)
		}
		if dead, _ := s.Tasks(ctx, true); len(dead) != 0 {
			t.Fatalf("still dead: %v", dead)
		}
	})
	t.Run("retry one", func(t *testing.T) {
		if err := c.Retry(ctx, "booking/bk-1"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("replay", func(t *testing.T) {
		res, err := c.Replay(ctx, ReplayRequest{ID: "ntf-1"})
		if err != nil || res.Notifications != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		if _, err := c.Replay(ctx, ReplayRequest{}); err == nil {
			t.Fatal("empty replay accepted")
		}
	})
	t.Run("hold", func(t *testing.T) {
		if err := c.Hold(ctx, "nt-1", true); err != nil {
			t.Fatal(err)
		}
		if nt, _ := s.DB.Notetaker("nt-1"); !nt.Hold {
			t.Fatal("hold not set")
		}
		if err := c.Hold(ctx, "nt-1", false); err != nil {
			t.Fatal(err)
		}
		if nt, _ := s.DB.Notetaker("nt-1"); nt.Hold {
			t.Fatal("hold not released")
		}
		for _, id := range []string{"nt-unknown", "../etc"} {
			if err := c.Hold(ctx, id, true); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("hold %q: %v", id, err)
			}
		}
		if _, err := s.DB.Notetaker("nt-unknown"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("hold created a Notetaker")
		}
	})
	t.Run("record bot", func(t *testing.T) {
		bot := store.Notetaker{ID: "ntJoin1", GrantID: "g1", MeetingLink: "https://meet.google.com/a", State: "scheduled"}
		if err := c.RecordBot(ctx, bot); err != nil {
			t.Fatal(err)
		}
		if nt, err := s.DB.Notetaker("ntJoin1"); err != nil || nt.GrantID != "g1" || nt.MeetingLink != bot.MeetingLink || nt.State != "scheduled" {
			t.Fatalf("recorded %+v (%v)", nt, err)
		}
		if err := c.RecordBot(ctx, store.Notetaker{ID: "../x"}); err == nil {
			t.Fatal("an unsafe ID was recorded")
		}
	})
}

// normalize compares values by their JSON form (times lose their monotonic
// reading on the way).
func normalize(t *testing.T, v any) any {
	t.Helper()
	var buf bytes.Buffer
	if err := writeJSON(&buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestServer_Open(t *testing.T) {
	t.Run("stale socket of a killed daemon is replaced", func(t *testing.T) {
		s := newTestService(t)
		ln, err := net.Listen("unix", datadir.SocketPath(s.DataDir))
		if err != nil {
			t.Fatal(err)
		}
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		ln.Close() // the file stays, nobody listens: what kill -9 leaves
		if _, err := Dial(datadir.SocketPath(s.DataDir)); !errors.Is(err, ErrNoDaemon) {
			t.Fatalf("dial stale socket: %v", err)
		}
		c := serve(t, s)
		if _, err := c.Status(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a socket that answers is not taken over", func(t *testing.T) {
		s := newTestService(t)
		serve(t, s)
		second := NewServer(s, datadir.SocketPath(s.DataDir))
		if err := second.Open(); !errors.Is(err, ErrDaemonRunning) {
			t.Fatalf("second Open: %v", err)
		}
		if _, err := Dial(datadir.SocketPath(s.DataDir)); err != nil {
			t.Fatalf("first server lost its socket: %v", err)
		}
	})
	t.Run("close removes the socket", func(t *testing.T) {
		s := newTestService(t)
		srv := NewServer(s, datadir.SocketPath(s.DataDir))
		if err := srv.Open(); err != nil {
			t.Fatal(err)
		}
		if err := srv.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(srv.Path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("socket still there: %v", err)
		}
		if _, err := Dial(srv.Path); !errors.Is(err, ErrNoDaemon) {
			t.Fatalf("dial after close: %v", err)
		}
	})
}

// TestClient_EventsStream: many events arrive whole and in order through
// the stream.
func TestClient_EventsStream(t *testing.T) {
	s := newTestService(t)
	const n = 3*eventPage + 7
	for i := range n {
		ingest(t, s.DB, "ntf-"+time.Duration(i+1).String(), "grant.expired", "grant-1")
	}
	c := serve(t, s)
	var seqs []uint64
	err := c.Events(context.Background(), EventFilter{}, func(e Event) error { seqs = append(seqs, e.Seq); return nil })
	if err != nil || len(seqs) != n {
		t.Fatalf("%d events, %v", len(seqs), err)
	}
	for i, seq := range seqs {
		if seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, seq)
		}
	}
}

func writeJSON(buf *bytes.Buffer, v any) error { return json.NewEncoder(buf).Encode(v) }
