package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Alert is something a person should know about; its Kind is one of
// AlertKinds (kinds.go).
type Alert struct {
	Seq     uint64    `json:"-"`
	Kind    AlertKind `json:"kind"`    // one of AlertKinds
	Subject string    `json:"subject"` // the Notetaker, booking, grant, destination, file or domain it is about
	Message string    `json:"message"`
	Time    time.Time `json:"time"`
}

// AlertWindow is the shortest interval between two alerts of one kind about
// one subject: a condition that persists alerts once an hour, not on every
// check.
const AlertWindow = time.Hour

// AlertTask is the task that delivers alert seq to sink number sink.
func AlertTask(seq uint64, sink int) TaskRef {
	return TaskRef{Kind: TaskAlert, Subject: fmt.Sprintf("%d-%d", seq, sink)}
}

// ParseAlertTask splits an alert task's subject.
func ParseAlertTask(subject string) (seq uint64, sink int, err error) {
	if _, err := fmt.Sscanf(subject, "%d-%d", &seq, &sink); err != nil {
		return 0, 0, fmt.Errorf("alert task %q: %w", subject, err)
	}
	return seq, sink, nil
}

// RaiseAlert records a, unless an alert of the same kind and subject was
// raised within AlertWindow, and reports whether it did. The check, the
// record and one delivery task per sink (AlertTask, for DB.AlertSinks sinks)
// are one transaction, so concurrent callers cannot both raise it and a
// logged alert is always also queued for delivery. Time is set by the store.
func (db *DB) RaiseAlert(a Alert) (bool, error) {
	raised := false
	err := db.update(func(tx *bolt.Tx) error {
		var err error
		raised, err = db.raiseAlertTx(tx, a, db.Now()) // this may run twice; see writer.go
		return err
	})
	if err != nil {
		return false, fmt.Errorf("raise alert %s %q: %w", a.Kind, a.Subject, err)
	}
	if raised && db.AlertSinks > 0 {
		db.signalTasks()
	}
	return raised, nil
}

// raiseAlertTx is RaiseAlert inside tx: it reports whether the alert was
// recorded (and queued for every sink) or fell inside the once-per-window
// limit.
func (db *DB) raiseAlertTx(tx *bolt.Tx, a Alert, now time.Time) (bool, error) {
	ok, err := claimAlertTx(tx, a.Kind, a.Subject, now, AlertWindow)
	if err != nil || !ok {
		return false, err
	}
	log := tx.Bucket(bucketAlertLog)
	seq, err := log.NextSequence()
	if err != nil {
		return false, err
	}
	c := a
	c.Time = now
	v, err := json.Marshal(&c)
	if err != nil {
		return false, err
	}
	if err := log.Put(u64(seq), v); err != nil {
		return false, err
	}
	for i := range db.AlertSinks {
		if err := enqueueTx(tx, AlertTask(seq, i), 0, now); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Alert returns the alert with sequence seq, or ErrNotFound.
func (db *DB) Alert(seq uint64) (*Alert, error) {
	var a *Alert
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAlertLog).Get(u64(seq))
		if v == nil {
			return ErrNotFound
		}
		a = new(Alert)
		a.Seq = seq
		return json.Unmarshal(v, a)
	})
	if err != nil {
		return nil, fmt.Errorf("get alert %d: %w", seq, err)
	}
	return a, nil
}

// Alerts returns every recorded alert, oldest first.
func (db *DB) Alerts() ([]*Alert, error) {
	var out []*Alert
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAlertLog).ForEach(func(k, v []byte) error {
			a, err := decodeAlert(k, v)
			out = append(out, a)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// ClaimAlert decides, in one transaction, whether an alert of kind about
// subject may be sent now: it may when none was claimed within window. A
// successful claim records now, so concurrent callers cannot both win.
func (db *DB) ClaimAlert(kind AlertKind, subject string, window time.Duration) (bool, error) {
	ok := false
	err := db.update(func(tx *bolt.Tx) (err error) {
		ok, err = claimAlertTx(tx, kind, subject, db.Now(), window)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim alert %s %q: %w", kind, subject, err)
	}
	return ok, nil
}

func claimAlertTx(tx *bolt.Tx, kind AlertKind, subject string, now time.Time, window time.Duration) (bool, error) {
	b := tx.Bucket(bucketAlerts)
	k := alertKey(kind, subject)
	if v := b.Get(k); len(v) == 8 {
		if last := time.Unix(0, int64(beUint64(v))); now.Sub(last) < window {
			return false, nil
		}
	}
	return true, b.Put(k, u64(uint64(now.UnixNano())))
}

// RecentAlerts returns the newest limit alerts, newest first. It reads only
// those, from the end of the log.
func (db *DB) RecentAlerts(limit int) ([]*Alert, error) {
	var out []*Alert
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAlertLog).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			a, err := decodeAlert(k, v)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list recent alerts: %w", err)
	}
	return out, nil
}

// decodeAlert decodes the alert_log entry k → v.
func decodeAlert(k, v []byte) (*Alert, error) {
	a := new(Alert)
	if err := json.Unmarshal(v, a); err != nil {
		return nil, fmt.Errorf("alert %d: %w", beUint64(k), err)
	}
	a.Seq = beUint64(k)
	return a, nil
}
