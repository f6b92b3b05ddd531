package store

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Counters are kept in the transactions that change what they count, so that
// status pages and /metrics read a number instead of walking a bucket whose
// size grows with the history (bbolt's Stats walks every page). Names (keys
// of bucketCounters):
//
//	records/{bucket}        records of notetakers, bookings, grants (never deleted)
//	notetakers/{state}      Notetakers by archive state (archiveState: none, pending, done, pruned)
//	tasks/live/{kind}       waiting or leased tasks
//	tasks/dead/{kind}       dead-lettered tasks
//	notifications/pruned    notifications deleted by retention
//
// Counts that need no counter are derived: stored notifications are the
// bucket's sequence less the pruned ones; quarantined requests and alerts are
// never deleted, so their count is their bucket's sequence.
const (
	counterNotificationsPruned = "notifications/pruned"
)

func recordsCounter(bucket []byte) string   { return "records/" + string(bucket) }
func notetakersCounter(state string) string { return "notetakers/" + state }
func tasksCounter(kind string, dead bool) string {
	if dead {
		return "tasks/dead/" + kind
	}
	return "tasks/live/" + kind
}

// addCounter adds delta to counter name in tx.
func addCounter(tx *bolt.Tx, name string, delta int64) error {
	if delta == 0 {
		return nil
	}
	b := tx.Bucket(bucketCounters)
	v := int64(0)
	if old := b.Get([]byte(name)); len(old) == 8 {
		v = int64(binary.BigEndian.Uint64(old))
	}
	v += delta
	if v < 0 {
		return fmt.Errorf("counter %s below zero (%d)", name, v)
	}
	return b.Put([]byte(name), u64(uint64(v)))
}

// readCounter is counter name in tx, 0 when it was never set.
func readCounter(tx *bolt.Tx, name string) int64 {
	if v := tx.Bucket(bucketCounters).Get([]byte(name)); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

// timeKey encodes t as 8 bytes that sort as the times do, before 1970 too
// (Unix nanoseconds with the sign bit flipped). Times out of UnixNano's range
// (years before 1678 or after 2262) are clamped to its ends.
func timeKey(t time.Time) []byte {
	var n int64
	switch {
	case t.Before(minKeyTime):
		n = minKeyTime.UnixNano()
	case t.After(maxKeyTime):
		n = maxKeyTime.UnixNano()
	default:
		n = t.UnixNano()
	}
	return u64(uint64(n) ^ 1<<63)
}

// parseTimeKey reverses timeKey on the first 8 bytes of k.
func parseTimeKey(k []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])^1<<63))
}

var (
	minKeyTime = time.Unix(0, -1<<63+1)
	maxKeyTime = time.Unix(0, 1<<63-1)
)

// timeIDKey is an index key: timeKey(t) then id.
func timeIDKey(t time.Time, id string) []byte {
	return append(timeKey(t), id...)
}
