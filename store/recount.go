package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// derived is what the counters and indexes should hold, recounted from the
// records themselves: the migration that introduced them writes it, and
// Check compares it with what is stored.
type derived struct {
	counters map[string]int64
	indexes  map[string]map[string]bool // bucket → keys
}

// derivedBuckets are the buckets recount rebuilds entirely.
var derivedBuckets = [][]byte{bucketNotetakersPending, bucketNotetakersArchived, bucketNotetakersByFirstSeen, bucketTasksByKind}

// recount walks the notetakers, bookings, grants, tasks and notifications.
func recount(tx *bolt.Tx) (*derived, error) {
	d := &derived{counters: map[string]int64{}, indexes: map[string]map[string]bool{}}
	for _, b := range derivedBuckets {
		d.indexes[string(b)] = map[string]bool{}
	}
	err := tx.Bucket(bucketNotetakers).ForEach(func(k, v []byte) error {
		var nt Notetaker
		if err := json.Unmarshal(v, &nt); err != nil {
			return fmt.Errorf("decode notetaker %q: %w", k, err)
		}
		if nt.ID == "" {
			nt.ID = string(k)
		}
		d.counters[recordsCounter(bucketNotetakers)]++
		e := entriesOf(&nt)
		d.counters[notetakersCounter(e.state)]++
		if e.pending != nil {
			d.indexes[string(bucketNotetakersPending)][string(e.pending)] = true
		}
		if e.archived != nil {
			d.indexes[string(bucketNotetakersArchived)][string(e.archived)] = true
		}
		d.indexes[string(bucketNotetakersByFirstSeen)][string(e.seen)] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Every bucket written through updateRecord, which keeps a records/
	// counter for it.
	for _, b := range [][]byte{bucketBookings, bucketGrants, bucketATSDelivery, bucketFollowups} {
		if n := countKeys(tx.Bucket(b)); n > 0 {
			d.counters[recordsCounter(b)] = n
		}
	}
	err = tx.Bucket(bucketTasks).ForEach(func(k, v []byte) error {
		var h taskHead
		if err := json.Unmarshal(v, &h); err != nil {
			return fmt.Errorf("decode task %q: %w", k, err)
		}
		d.counters[tasksCounter(string(h.Kind), h.Dead)]++
		if !h.Dead {
			d.indexes[string(bucketTasksByKind)][string(taskByKindKey(h.Kind, h.CreatedAt, h.Key()))] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	nb := tx.Bucket(bucketNotifications)
	if pruned := int64(nb.Sequence()) - countKeys(nb); pruned > 0 {
		d.counters[counterNotificationsPruned] = pruned
	} else if pruned < 0 {
		return nil, fmt.Errorf("notifications: %d stored above the sequence %d", -pruned, nb.Sequence())
	}
	return d, nil
}

func countKeys(b *bolt.Bucket) int64 {
	var n int64
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// indexCountersTx is the migration that introduced the counters and the
// notetakers_pending, notetakers_archived and tasks_by_kind indexes: it
// (re)builds them from the records.
func indexCountersTx(tx *bolt.Tx) error {
	d, err := recount(tx)
	if err != nil {
		return err
	}
	for _, name := range append(slices.Clone(derivedBuckets), bucketCounters) {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return err
		}
		b, err := tx.CreateBucket(name)
		if err != nil {
			return err
		}
		if string(name) == string(bucketCounters) {
			for _, k := range slices.Sorted(maps.Keys(d.counters)) {
				if err := b.Put([]byte(k), u64(uint64(d.counters[k]))); err != nil {
					return err
				}
			}
			continue
		}
		b.FillPercent = 0.9 // keys are written in order
		for _, k := range slices.Sorted(maps.Keys(d.indexes[string(name)])) {
			if err := b.Put([]byte(k), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkDerived compares the stored counters and indexes with a recount and
// returns every difference.
func checkDerived(tx *bolt.Tx) error {
	d, err := recount(tx)
	if err != nil {
		return err
	}
	var errs []error
	stored := map[string]int64{}
	tx.Bucket(bucketCounters).ForEach(func(k, v []byte) error {
		if len(v) != 8 {
			errs = append(errs, fmt.Errorf("counter %s: %d bytes", k, len(v)))
		} else if n := int64(beUint64(v)); n != 0 {
			stored[string(k)] = n
		}
		return nil
	})
	for _, k := range slices.Sorted(maps.Keys(d.counters)) {
		if d.counters[k] != stored[k] {
			errs = append(errs, fmt.Errorf("counter %s is %d, a recount finds %d", k, stored[k], d.counters[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(stored)) {
		if _, ok := d.counters[k]; !ok {
			errs = append(errs, fmt.Errorf("counter %s is %d, a recount finds 0", k, stored[k]))
		}
	}
	for _, name := range derivedBuckets {
		want := d.indexes[string(name)]
		n := 0
		tx.Bucket(name).ForEach(func(k, _ []byte) error {
			n++
			if !want[string(k)] {
				errs = append(errs, fmt.Errorf("index %s has a stale entry %q", name, k))
			}
			return nil
		})
		if n != len(want) {
			errs = append(errs, fmt.Errorf("index %s has %d entries, a recount finds %d", name, n, len(want)))
		}
	}
	return errors.Join(errs...)
}
