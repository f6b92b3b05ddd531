package store_test

import (
	"errors"
	"testing"

	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

func TestBookingOf_Index(t *testing.T) {
	db := storetest.MustOpen(t)
	put := func(id, notetaker, event string) {
		t.Helper()
		if _, err := db.UpdateBooking(id, func(b *store.Booking) error {
			b.NotetakerID, b.EventID = notetaker, event
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	put("bk-b", "nt-1", "ev-1")
	put("bk-a", "", "ev-1")     // same event, no Notetaker named
	put("bk-c", "nt-2", "")     // Notetaker only
	put("bk-d", "nt-3", "ev-3") // later renamed below
	put("bk-d", "nt-4", "ev-4")
	put("bk-e", "nt\x00x", "") // a NUL in a value cannot leak into "nt"'s entries
	put("bk-f", "nt", "")

	for _, tc := range []struct {
		name, notetaker, event string
		want                   string // "" for ErrNotFound
	}{
		{"by notetaker before event", "nt-1", "ev-1", "bk-b"},
		{"by notetaker, no event", "nt-2", "", "bk-c"},
		{"by event when no booking names the notetaker, lowest id", "nt-9", "ev-1", "bk-a"},
		{"old notetaker after a change", "nt-3", "", ""},
		{"old event after a change", "nt-9", "ev-3", ""},
		{"new notetaker after a change", "nt-4", "", "bk-d"},
		{"new event after a change", "nt-9", "ev-4", "bk-d"},
		{"prefix of another value", "nt", "", "bk-f"},
		{"value with a NUL", "nt\x00x", "", "bk-e"},
		{"nothing", "nt-9", "ev-9", ""},
		{"empty event never matches", "nt-9", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := db.BookingOf(tc.notetaker, tc.event)
			switch {
			case tc.want == "" && !errors.Is(err, store.ErrNotFound):
				t.Fatalf("got %v, %v; want ErrNotFound", b, err)
			case tc.want == "":
			case err != nil:
				t.Fatal(err)
			case b.ID != tc.want:
				t.Fatalf("booking %s, want %s", b.ID, tc.want)
			}
		})
	}
}
