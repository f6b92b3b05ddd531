package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Ingest is one notification to store, with the tasks it implies.
type Ingest struct {
	Notification Notification // Seq and ReceivedAt are assigned by the store
	Tasks        []TaskRef    // enqueued with the notification's sequence as a ref
	// Alerts are raised (see RaiseAlert) in the same transaction, unless the
	// notification is a duplicate: a crash cannot keep the one without the
	// other.
	Alerts []Alert

	packed    []byte // the body as stored (compress.go), once pack ran
	packedEnc byte
	isPacked  bool
}

// pack compresses the body once, outside the transaction.
func (in *Ingest) pack() {
	if !in.isPacked {
		in.packed, in.packedEnc = packBody(in.Notification.Body)
		in.isPacked = true
	}
}

// IngestResult says what Ingest did.
type IngestResult struct {
	Seq       uint64 // the notification's sequence (the earlier one for a duplicate)
	Duplicate bool   // the envelope id was already stored; nothing was written
}

// Ingest durably stores a notification, its dedupe key and its tasks in one
// transaction, and returns only after that transaction is committed and
// fsynced (or failed). A notification whose envelope id is already stored is
// a duplicate: nothing is written and its first sequence is returned.
//
// Like every write, it goes through the store's committer (writer.go), so
// concurrent notifications, and the workers' writes, share fsyncs.
//
// When ctx ends first, Ingest returns ctx.Err(); the notification may still be
// committed (a redelivery is then a duplicate). After Close it returns
// ErrClosed.
func (db *DB) Ingest(ctx context.Context, in *Ingest) (IngestResult, error) {
	if n := len(in.Notification.ID); n == 0 || n > MaxEnvelopeIDLen {
		return IngestResult{}, fmt.Errorf("ingest: envelope id of %d bytes", n)
	}
	in.pack() // in this goroutine: the committer only copies the result
	var res IngestResult
	raised := false
	err := db.write(ctx, func(tx *bolt.Tx) (err error) {
		raised = false // this may run twice; see writer.go
		now := db.Now()
		if res, err = ingestTx(tx, in, now); err != nil || res.Duplicate {
			return err
		}
		for _, a := range in.Alerts {
			ok, err := db.raiseAlertTx(tx, a, now)
			if err != nil {
				return err
			}
			raised = raised || ok
		}
		return nil
	})
	if err != nil {
		return IngestResult{}, fmt.Errorf("ingest: %w", err)
	}
	if !res.Duplicate && len(in.Tasks) > 0 || raised && db.AlertSinks > 0 {
		db.signalTasks()
	}
	return res, nil
}

// ingestTx stores one notification unless its id is known.
func ingestTx(tx *bolt.Tx, in *Ingest, now time.Time) (IngestResult, error) {
	dedupe := tx.Bucket(bucketDedupe)
	id := []byte(in.Notification.ID)
	if v := dedupe.Get(id); v != nil {
		return IngestResult{Seq: binary.BigEndian.Uint64(v), Duplicate: true}, nil
	}
	nb := tx.Bucket(bucketNotifications)
	nb.FillPercent = 1 // keys are appended in order: fill pages densely
	seq, err := nb.NextSequence()
	if err != nil {
		return IngestResult{}, err
	}
	n := in.Notification
	n.Seq = seq
	n.ReceivedAt = now
	in.pack()
	if err := nb.Put(u64(seq), encodePacked(&n, in.packed, in.packedEnc)); err != nil {
		return IngestResult{}, err
	}
	if err := dedupe.Put(id, u64(seq)); err != nil {
		return IngestResult{}, err
	}
	for _, ref := range in.Tasks {
		if err := enqueueTx(tx, ref, seq, n.ReceivedAt); err != nil {
			return IngestResult{}, err
		}
	}
	return IngestResult{Seq: seq}, nil
}
