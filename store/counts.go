package store

import (
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
}

// Counts counts the records in one read transaction. It walks the tasks
// bucket (to tell live from dead) and reads the other sizes from bbolt's
// page statistics.
func (db *DB) Counts() (Counts, error) {
	var c Counts
	err := db.view(func(tx *bolt.Tx) error {
		c.Notifications = tx.Bucket(bucketNotifications).Stats().KeyN
		c.Quarantined = tx.Bucket(bucketQuarantine).Stats().KeyN
		c.Notetakers = tx.Bucket(bucketNotetakers).Stats().KeyN
		c.Bookings = tx.Bucket(bucketBookings).Stats().KeyN
		c.Grants = tx.Bucket(bucketGrants).Stats().KeyN
		c.Alerts = tx.Bucket(bucketAlertLog).Stats().KeyN
		c.TasksLive = tx.Bucket(bucketTasksDue).Stats().KeyN
		c.TasksDead = tx.Bucket(bucketTasks).Stats().KeyN - c.TasksLive
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("count records: %w", err)
	}
	return c, nil
}
