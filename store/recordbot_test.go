package store_test

import (
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

func TestRecordBot(t *testing.T) {
	db := storetest.MustOpen(t)
	join := time.Unix(1767225600, 0).UTC()
	b := store.Notetaker{ID: "ntJoin1", GrantID: "g1", MeetingLink: "https://meet.google.com/a", MeetingProvider: "Google Meet",
		State: "scheduled", JoinTime: join}
	nt, err := db.RecordBot(b)
	if err != nil {
		t.Fatal(err)
	}
	if nt.GrantID != "g1" || nt.MeetingLink != b.MeetingLink || nt.State != "scheduled" || !nt.JoinTime.Equal(join) {
		t.Errorf("recorded %+v", nt)
	}
	// A notification moved it on; recording again (a join that found its bot) changes nothing.
	db.UpdateNotetaker("ntJoin1", func(nt *store.Notetaker) error { nt.State, nt.StateAt = "attending", 1767225700; return nil })
	if nt, _ = db.RecordBot(b); nt.State != "attending" {
		t.Errorf("state %q, want the notification's", nt.State)
	}
}
