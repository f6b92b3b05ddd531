package ops

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestEvents_Filter(t *testing.T) {
	s := newTestService(t)
	c := &clock{t: time.Date(2026, 1, 20, 10, 0, 0, 0, time.UTC)}
	s.DB.Now = c.Now
	ingest(t, s.DB, "ntf-1", "notetaker.created", "nt-a")
	c.t = c.t.Add(24 * time.Hour)
	ingest(t, s.DB, "ntf-2", "notetaker.media.truncated", "nt-a")
	ingest(t, s.DB, "ntf-3", "booking.created", "bk-1")
	c.t = c.t.Add(24 * time.Hour)
	ingest(t, s.DB, "ntf-4", "message.created", "m-1")

	for _, tc := range []struct {
		name   string
		filter EventFilter
		want   []string
	}{
		{"everything", EventFilter{}, []string{"ntf-1", "ntf-2", "ntf-3", "ntf-4"}},
		{"since is inclusive", EventFilter{Since: time.Date(2026, 1, 21, 10, 0, 0, 0, time.UTC)}, []string{"ntf-2", "ntf-3", "ntf-4"}},
		{"since after all", EventFilter{Since: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}, nil},
		{"exact type", EventFilter{Type: "booking.created"}, []string{"ntf-3"}},
		{"base type matches a suffixed type", EventFilter{Type: "notetaker.media"}, []string{"ntf-2"}},
		{"type as sent", EventFilter{Type: "notetaker.media.truncated"}, []string{"ntf-2"}},
		{"prefix", EventFilter{Type: "notetaker"}, []string{"ntf-1", "ntf-2"}},
		{"prefix with dot", EventFilter{Type: "notetaker."}, []string{"ntf-1", "ntf-2"}},
		{"no partial word", EventFilter{Type: "note"}, nil},
		{"type and since", EventFilter{Type: "notetaker", Since: time.Date(2026, 1, 21, 0, 0, 0, 0, time.UTC)}, []string{"ntf-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := s.Events(context.Background(), tc.filter, func(e Event) error { got = append(got, e.ID); return nil })
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEvents_FieldsAndPaging(t *testing.T) {
	s := newTestService(t)
	const n = eventPage*2 + 3 // several read transactions
	for i := range n {
		ingest(t, s.DB, "ntf-"+string(rune('a'+i%26))+"-"+time.Duration(i).String(), "notetaker.meeting_state", "nt-x")
	}
	var got []Event
	if err := s.Events(context.Background(), EventFilter{}, func(e Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d events, want %d", len(got), n)
	}
	for i, e := range got {
		if e.Seq != uint64(i+1) || e.Type != "notetaker.meeting_state" || e.Subject != "nt-x" || e.ReceivedAt.IsZero() || e.ID == "" {
			t.Fatalf("event %d: %+v", i, e)
		}
	}
}
