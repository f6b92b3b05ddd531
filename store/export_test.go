package store

import bolt "go.etcd.io/bbolt"

// IngestWithBoltBatch stores in through bbolt's DB.Batch instead of the
// committer, so a benchmark can compare the two on identical writes.
func IngestWithBoltBatch(db *DB, in *Ingest) error {
	return db.db.Batch(func(tx *bolt.Tx) error {
		_, err := ingestTx(tx, in, db.Now())
		return err
	})
}
