package store

import (
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// getRecord decodes the JSON value under id in bucket into a new T, or returns
// ErrNotFound.
func getRecord[T any](db *DB, bucket []byte, id string) (*T, error) {
	var rec *T
	err := db.view(func(tx *bolt.Tx) (err error) {
		rec, err = getRecordTx[T](tx, bucket, id)
		return err
	})
	return rec, err
}

func getRecordTx[T any](tx *bolt.Tx, bucket []byte, id string) (*T, error) {
	v := tx.Bucket(bucket).Get([]byte(id))
	if v == nil {
		return nil, ErrNotFound
	}
	rec := new(T)
	if err := json.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("decode %s %q: %w", bucket, id, err)
	}
	return rec, nil
}

// updateRecord reads the record under id (a zero T when there is none), lets
// fn change it, writes it back and returns it, in one transaction. fn must not
// do I/O; if it returns an error nothing is written.
func updateRecord[T any](db *DB, bucket []byte, id string, fn func(rec *T) error) (*T, error) {
	return updateRecordThen(db, bucket, id, fn, nil)
}

// updateRecordThen is updateRecord that, when then is set, also calls it
// with the written record inside the same transaction (to keep an index in
// step); its error undoes the whole write.
func updateRecordThen[T any](db *DB, bucket []byte, id string, fn func(rec *T) error, then func(tx *bolt.Tx, rec *T) error) (*T, error) {
	if id == "" {
		return nil, errors.New("empty id")
	}
	var out *T
	err := db.update(func(tx *bolt.Tx) error {
		rec, err := getRecordTx[T](tx, bucket, id)
		if errors.Is(err, ErrNotFound) {
			rec = new(T)
			if err := addCounter(tx, recordsCounter(bucket), 1); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		out = rec // fn worked on a fresh decode: the caller owns it
		if err := tx.Bucket(bucket).Put([]byte(id), v); err != nil {
			return err
		}
		if then != nil {
			return then(tx, rec)
		}
		return nil
	})
	return out, err
}

// listRecords decodes every record of bucket, in key order.
func listRecords[T any](db *DB, bucket []byte) ([]*T, error) {
	var out []*T
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			rec := new(T)
			if err := json.Unmarshal(v, rec); err != nil {
				return fmt.Errorf("decode %s %q: %w", bucket, k, err)
			}
			out = append(out, rec)
			return nil
		})
	})
	return out, err
}
