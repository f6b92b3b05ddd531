package store_test

import (
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

func TestFollowupStates(t *testing.T) {
	db := storetest.MustOpen(t)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }

	if _, err := db.Followup("nt1"); err == nil {
		t.Fatal("a follow-up nobody recorded exists")
	}
	first, err := db.FollowupIntent("nt1", "g1", "Notes: A", []string{"a@x.example"})
	if err != nil || first.State != store.FollowupIntent || !first.IntentAt.Equal(now) {
		t.Fatalf("intent %+v (%v)", first, err)
	}
	now = now.Add(10 * time.Minute)
	again, err := db.FollowupIntent("nt1", "g1", "Notes: A", []string{"a@x.example"})
	if err != nil || !again.IntentAt.Equal(first.IntentAt) {
		t.Errorf("a repeated intent moved IntentAt to %v (%v); the idempotency hour runs from the first", again.IntentAt, err)
	}
	if err := db.FollowupSent("nt1", "m1"); err != nil {
		t.Fatal(err)
	}
	after, err := db.FollowupIntent("nt1", "g1", "Notes: B", nil)
	if err != nil || after.State != store.FollowupSent || after.MessageID != "m1" || after.Subject != "Notes: A" {
		t.Errorf("intent after sent: %+v (%v), want it left as sent", after, err)
	}
	if err := db.FollowupSkipped("nt1", "no summary"); err != nil {
		t.Fatal(err)
	}
	if f, _ := db.Followup("nt1"); f.State != store.FollowupSent {
		t.Errorf("skip overwrote a sent follow-up: %+v", f)
	}

	db.FollowupSkipped("nt2", "no summary")
	if f, _ := db.FollowupIntent("nt2", "g1", "S", []string{"a@x.example"}); f.State != store.FollowupIntent {
		t.Errorf("a skipped follow-up cannot be tried again once its summary arrived: %+v", f)
	}
}
