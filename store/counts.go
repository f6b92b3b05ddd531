package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Counts are the sizes of the store's record sets, for status pages.
type Counts struct {
	Notifications int `json:"notifications"`
	Quarantined   int `json:"quarantined"`
	Notetakers    int `json:"notetakers"`
	Bookings      int `json:"bookings"`
	Grants        int `json:"grants"`
	TasksLive     int `json:"tasks_live"` // waiting or leased
	TasksDead     int `json:"tasks_dead"` // dead-lettered
	Alerts        int `json:"alerts"`
	// Meetings by archive state (Notetaker.ArchiveState).
	ArchivePending int `json:"archive_pending"`
	Archived       int `json:"archived"`
	ArchivePruned  int `json:"archive_pruned"`
}

// Counts reads the counts in one read transaction, from the counters kept
// with the records (counters.go) and the buckets' sequences: its cost does
// not grow with the history.
func (db *DB) Counts() (Counts, error) {
	var c Counts
	err := db.view(func(tx *bolt.Tx) error { c = countsTx(tx); return nil })
	if err != nil {
		return c, fmt.Errorf("count records: %w", err)
	}
	return c, nil
}

func countsTx(tx *bolt.Tx) Counts {
	c := Counts{
		Notifications:  int(tx.Bucket(bucketNotifications).Sequence()) - int(readCounter(tx, counterNotificationsPruned)),
		Quarantined:    int(tx.Bucket(bucketQuarantine).Sequence()),
		Notetakers:     int(readCounter(tx, recordsCounter(bucketNotetakers))),
		Bookings:       int(readCounter(tx, recordsCounter(bucketBookings))),
		Grants:         int(readCounter(tx, recordsCounter(bucketGrants))),
		Alerts:         int(tx.Bucket(bucketAlertLog).Sequence()),
		ArchivePending: int(readCounter(tx, notetakersCounter(ArchivePending))),
		Archived:       int(readCounter(tx, notetakersCounter(ArchiveDone))),
		ArchivePruned:  int(readCounter(tx, notetakersCounter(ArchivePruned))),
	}
	c.TasksLive = int(sumCounters(tx, "tasks/live/"))
	c.TasksDead = int(sumCounters(tx, "tasks/dead/"))
	return c
}

// sumCounters adds up the counters whose names start with prefix.
func sumCounters(tx *bolt.Tx, prefix string) int64 {
	var n int64
	c := tx.Bucket(bucketCounters).Cursor()
	for k, v := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, v = c.Next() {
		if len(v) == 8 {
			n += int64(beUint64(v))
		}
	}
	return n
}
