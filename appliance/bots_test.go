package appliance_test

import (
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

func TestRecordBot(t *testing.T) {
	db := storetest.MustOpen(t)
	n := &nylas.Notetaker{ID: "ntJoin1", GrantID: "g1", MeetingLink: "https://meet.google.com/a", MeetingProvider: "Google Meet",
		State: "scheduled", JoinTime: 1767225600}
	nt, err := appliance.RecordBot(db, n)
	if err != nil {
		t.Fatal(err)
	}
	if nt.GrantID != "g1" || nt.MeetingLink != n.MeetingLink || nt.State != "scheduled" || !nt.JoinTime.Equal(time.Unix(1767225600, 0)) {
		t.Errorf("recorded %+v", nt)
	}
	// A notification moved it on; recording again (a join that found its bot) changes nothing.
	db.UpdateNotetaker("ntJoin1", func(nt *store.Notetaker) error { nt.State, nt.StateAt = "attending", 1767225700; return nil })
	if nt, _ = appliance.RecordBot(db, n); nt.State != "attending" {
		t.Errorf("state %q, want the notification's", nt.State)
	}
	if _, err := appliance.RecordBot(db, &nylas.Notetaker{ID: "../x"}); err == nil {
		t.Error("an unsafe ID was recorded")
	}
}
