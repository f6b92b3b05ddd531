package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestATSDelivery_MigratesTheOldStateRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notekeeper.db")
	saved := migrations
	migrations = saved[:2] // schema 2: the release before the ats_delivery bucket
	db := NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 7, 1, 14, 0, 0, 0, time.UTC)
	old := map[string]any{"created": true, "start": start, "end": start.Add(45 * time.Minute), "status": "cancelled",
		"candidate_email": "dana@candidates.example", "previous_booking": "bkg-1", "recordings": []string{"nt-1"}}
	if err := db.PutState("ats/bkg-2", old); err != nil {
		t.Fatal(err)
	}
	if err := db.PutState("reconciled/g", "kept"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	migrations = saved

	db = NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d, err := db.ATSDelivery("bkg-2")
	if err != nil {
		t.Fatal(err)
	}
	if d.Connector != "rest" || !d.Matched || !d.Interview.Done || d.Candidate.Email != "dana@candidates.example" ||
		!d.Told.Start.Equal(start) || d.Told.Status != "cancelled" || d.PreviousBooking != "bkg-1" ||
		!d.Notes[ATSNoteKey("nt-1")].Done {
		t.Fatalf("migrated %+v", d)
	}
	var v any
	if err := db.GetState("ats/bkg-2", &v); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old record still there: %v", err)
	}
	if err := db.GetState("reconciled/g", &v); err != nil {
		t.Fatalf("other state lost: %v", err)
	}
}

func TestATSDelivery_UpdateIsOneTransaction(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "notekeeper.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ATSDelivery("b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown booking: %v", err)
	}
	_, err := db.UpdateATSDelivery("b", func(d *ATSDelivery) error {
		d.Interview.IntentAt = time.Now()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.UpdateATSDelivery("b", func(d *ATSDelivery) error {
		d.Interview.ID = "lost"
		return errors.New("no")
	})
	if err == nil {
		t.Fatal("fn error not returned")
	}
	d, _ := db.ATSDelivery("b")
	if !d.Interview.Pending() || d.Interview.ID != "" {
		t.Fatalf("after a failed update: %+v", d.Interview)
	}
	ds, _ := db.ATSDeliveries()
	if len(ds) != 1 || ds[0].BookingID != "b" {
		t.Fatalf("list %+v", ds)
	}
}
