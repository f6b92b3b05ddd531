package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// migrations[i] upgrades a file at schema version i to version i+1; the
// current version is len(migrations). Open runs the missing ones, in order, in
// the same transaction that records the new version, so a crash leaves the file
// at the old version or the new one, never between.
//
// Append, never edit or reorder: a released binary has already run the
// existing entries. Buckets listed in allBuckets are created before any
// migration runs, so a migration can rely on them.
var migrations = []func(tx *bolt.Tx) error{
	// 0 → 1: the initial layout; creating the buckets is all it needs.
	func(*bolt.Tx) error { return nil },
	// 1 → 2: the booking indexes (bookings_by_notetaker, bookings_by_event),
	// built from the bookings already stored.
	indexBookingsTx,
	// 2 → 3: the ATS delivery state moves from "ats/" state records to its
	// own bucket (delivery_ats.go).
	migrateATSState,
	// 3 → 4: CRM delivery records leave the state bucket ("crm/{id}") for
	// their own bucket, crm_delivery.
	migrateCRMDelivery,
	// 4 → 5: the counters and the notetakers_pending, notetakers_archived
	// and tasks_by_kind indexes (recount.go), built from the records.
	indexCountersTx,
}

// schemaVersion reads the recorded version; a new file is version 0.
func schemaVersion(tx *bolt.Tx) (uint64, error) {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return 0, nil
	}
	v := b.Get(keySchemaVersion)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("corrupt schema version (%d bytes)", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// migrate creates missing buckets and runs pending migrations.
func migrate(tx *bolt.Tx) error {
	v, err := schemaVersion(tx)
	if err != nil {
		return err
	}
	if v > uint64(len(migrations)) {
		return fmt.Errorf("%w: file is version %d, this binary knows up to %d", ErrTooNew, v, len(migrations))
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	for ; v < uint64(len(migrations)); v++ {
		if err := migrations[v](tx); err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(v))
}
