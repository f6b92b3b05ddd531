package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// MaxEnvelopeIDLen bounds an envelope id, which becomes a dedupe key.
const MaxEnvelopeIDLen = 512

// Notification is one webhook notification as it arrived.
type Notification struct {
	Seq        uint64    // arrival sequence, assigned by the store
	ID         string    // envelope id, the dedupe key
	Type       string    // envelope type as sent, suffixes included
	ReceivedAt time.Time // when the store committed it
	Encoding   string    // Content-Encoding of the request ("gzip" or "")
	Signature  string    // X-Nylas-Signature that verified it
	Body       []byte    // the JSON body (decompressed when it arrived gzipped)
	// Error is a processing error found at ingest (e.g. an odd data.object):
	// the notification is kept and acknowledged, but implies no task.
	Error string
}

// Notification returns the notification stored under seq, or ErrNotFound.
func (db *DB) Notification(seq uint64) (*Notification, error) {
	var n *Notification
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketNotifications).Get(u64(seq))
		if v == nil {
			return ErrNotFound
		}
		var err error
		n, err = decodeNotification(seq, v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get notification %d: %w", seq, err)
	}
	return n, nil
}

// NotificationSeq returns the sequence of the notification with envelope id,
// or ErrNotFound.
func (db *DB) NotificationSeq(id string) (uint64, error) {
	var seq uint64
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketDedupe).Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		seq = binary.BigEndian.Uint64(v)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("get notification %q: %w", id, err)
	}
	return seq, nil
}

// Notifications calls fn for each notification with a sequence above after,
// in arrival order, until fn returns false or limit notifications were seen
// (limit ≤ 0: no limit). fn runs inside a read transaction: it must not call
// other DB methods that write, and the Notification it gets is its own copy.
func (db *DB) Notifications(after uint64, limit int, fn func(*Notification) bool) error {
	return db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketNotifications).Cursor()
		n := 0
		for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
			m, err := decodeNotification(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			n++
			if !fn(m) || (limit > 0 && n >= limit) {
				return nil
			}
		}
		return nil
	})
}

// CountNotifications returns how many notifications are stored.
func (db *DB) CountNotifications() (int, error) {
	var n int
	err := db.view(func(tx *bolt.Tx) error {
		n = countsTx(tx).Notifications // a sequence and a counter, not a walk
		return nil
	})
	return n, err
}

// notificationVersion is the first byte of every notification written:
// version 1 kept the body as received; version 2 writes a body-encoding
// byte (compress.go) before it. Both are read.
const notificationVersion = 2

// encodeNotification writes n as: version byte, varint received-at Unix
// nanoseconds, then uvarint-length-prefixed ID, Type, Encoding, Signature and
// Error, then the body encoding and the body to the end. A binary layout
// keeps the hot ingest path free of JSON encoding of the (multi-kilobyte)
// body. It compresses the body (packBody); encodePacked takes one already
// packed.
func encodeNotification(n *Notification) []byte {
	body, enc := packBody(n.Body)
	return encodePacked(n, body, enc)
}

// encodePacked is encodeNotification with the body already packed.
func encodePacked(n *Notification, body []byte, enc byte) []byte {
	size := 2 + binary.MaxVarintLen64 + 5*binary.MaxVarintLen64 +
		len(n.ID) + len(n.Type) + len(n.Encoding) + len(n.Signature) + len(n.Error) + len(body)
	b := make([]byte, 0, size)
	b = append(b, notificationVersion)
	b = binary.AppendVarint(b, n.ReceivedAt.UnixNano())
	for _, s := range []string{n.ID, n.Type, n.Encoding, n.Signature, n.Error} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = append(b, enc)
	return append(b, body...)
}

var errCorrupt = errors.New("corrupt record")

// decodeNotification parses v, copying everything out of bbolt's memory.
func decodeNotification(seq uint64, v []byte) (*Notification, error) {
	n, rest, enc, err := decodeHead(seq, v)
	if err != nil {
		return nil, err
	}
	if n.Body, err = unpackBody(rest, enc); err != nil {
		return nil, fmt.Errorf("notification %d: %w", seq, err)
	}
	return n, nil
}

// decodeHead parses everything but the body, which it returns as stored
// with its encoding.
func decodeHead(seq uint64, v []byte) (*Notification, []byte, byte, error) {
	if len(v) < 2 || (v[0] != 1 && v[0] != 2) {
		return nil, nil, 0, fmt.Errorf("notification %d: %w", seq, errCorrupt)
	}
	version := v[0]
	v = v[1:]
	nanos, k := binary.Varint(v)
	if k <= 0 {
		return nil, nil, 0, fmt.Errorf("notification %d: %w", seq, errCorrupt)
	}
	v = v[k:]
	var fields [5]string
	for i := range fields {
		l, k := binary.Uvarint(v)
		if k <= 0 || uint64(len(v)-k) < l {
			return nil, nil, 0, fmt.Errorf("notification %d: %w", seq, errCorrupt)
		}
		fields[i] = string(v[k : k+int(l)])
		v = v[k+int(l):]
	}
	enc := byte(bodyRaw)
	if version == 2 {
		if len(v) == 0 {
			return nil, nil, 0, fmt.Errorf("notification %d: %w", seq, errCorrupt)
		}
		enc, v = v[0], v[1:]
	}
	return &Notification{
		Seq:        seq,
		ReceivedAt: time.Unix(0, nanos),
		ID:         fields[0],
		Type:       fields[1],
		Encoding:   fields[2],
		Signature:  fields[3],
		Error:      fields[4],
	}, v, enc, nil
}
