package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The task queue's counters (tasks/live/{kind}, tasks/dead/{kind}) and the
// tasks_by_kind index (the live tasks of each kind by creation time) are
// kept by putTask and deleteTask, the only two writers of the tasks bucket,
// so /metrics reads the queue's depth, age and dead letters without decoding
// a task.

// taskHead is what the counters and the index need of a stored task.
type taskHead struct {
	TaskRef
	Dead      bool      `json:"dead"`
	CreatedAt time.Time `json:"created_at"`
}

// taskByKindKey is the tasks_by_kind key of a live task.
func taskByKindKey(kind TaskKind, created time.Time, key string) []byte {
	b := make([]byte, 0, len(kind)+1+8+len(key))
	b = append(append(b, kind...), 0)
	return append(append(b, timeKey(created)...), key...)
}

// countTask moves the counters and the index from the stored value old (nil:
// no task) to t (nil: deleted).
func countTask(tx *bolt.Tx, old []byte, t *Task) error {
	if old != nil && t != nil && sameTaskState(old, t) {
		return nil // the common case: a lease, a retry time, new refs
	}
	var was *taskHead
	if old != nil {
		was = new(taskHead)
		if err := json.Unmarshal(old, was); err != nil {
			return fmt.Errorf("decode task: %w", err)
		}
	}
	return moveTaskCount(tx, was, t)
}

// sameTaskState reports, without decoding old (the hot path of every lease
// and enqueue), whether the stored task old has t's dead flag and creation
// time, the two things the counters and the index depend on. It reads the
// JSON that putTask wrote: inside a JSON string every '"' is escaped, so
// the two members cannot be matched in a string value by mistake.
func sameTaskState(old []byte, t *Task) bool {
	if bytes.Contains(old, []byte(`"dead":true`)) != t.Dead {
		return false
	}
	_, rest, ok := bytes.Cut(old, []byte(`"created_at":"`))
	if !ok {
		return false
	}
	created, _, ok := bytes.Cut(rest, []byte(`"`))
	var buf [64]byte
	return ok && bytes.Equal(created, t.CreatedAt.AppendFormat(buf[:0], time.RFC3339Nano))
}

// moveTaskCount moves the counters and the index from was (nil: no task)
// to t (nil: deleted).
func moveTaskCount(tx *bolt.Tx, was *taskHead, t *Task) error {
	var now *taskHead
	if t != nil {
		now = &taskHead{TaskRef: t.TaskRef, Dead: t.Dead, CreatedAt: t.CreatedAt}
	}
	if was != nil && now != nil && was.Dead == now.Dead && was.CreatedAt.Equal(now.CreatedAt) {
		return nil
	}
	ix := tx.Bucket(bucketTasksByKind)
	if was != nil {
		if err := addCounter(tx, tasksCounter(string(was.Kind), was.Dead), -1); err != nil {
			return err
		}
		if !was.Dead {
			if err := ix.Delete(taskByKindKey(was.Kind, was.CreatedAt, was.Key())); err != nil {
				return err
			}
		}
	}
	if now != nil {
		if err := addCounter(tx, tasksCounter(string(now.Kind), now.Dead), 1); err != nil {
			return err
		}
		if !now.Dead {
			if err := ix.Put(taskByKindKey(now.Kind, now.CreatedAt, now.Key()), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteTask removes t, as stored (read in this transaction), and its
// counts; its tasks_due entry is the caller's (takeTask removes it).
func deleteTask(tx *bolt.Tx, t *Task) error {
	if err := moveTaskCount(tx, &taskHead{TaskRef: t.TaskRef, Dead: t.Dead, CreatedAt: t.CreatedAt}, nil); err != nil {
		return err
	}
	return tx.Bucket(bucketTasks).Delete([]byte(t.Key()))
}

// TaskStat is the queue's state for one task kind.
type TaskStat struct {
	Live int // waiting or leased
	Dead int // dead-lettered
	// Oldest is the creation time of the oldest live task; zero when none.
	Oldest time.Time
}

// TaskStats returns the queue's state by kind, for the kinds that have a
// live or dead task. It reads counters and one index entry per kind.
func (db *DB) TaskStats() (map[TaskKind]TaskStat, error) {
	out := map[TaskKind]TaskStat{}
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketCounters).Cursor()
		prefix := []byte("tasks/")
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			state, kind, ok := strings.Cut(string(k[len(prefix):]), "/")
			if !ok || len(v) != 8 || beUint64(v) == 0 {
				continue
			}
			s := out[TaskKind(kind)]
			if state == "dead" {
				s.Dead = int(beUint64(v))
			} else {
				s.Live = int(beUint64(v))
			}
			out[TaskKind(kind)] = s
		}
		ix := tx.Bucket(bucketTasksByKind).Cursor()
		for kind, s := range out {
			if s.Live == 0 {
				continue
			}
			p := append([]byte(kind), 0)
			if k, _ := ix.Seek(p); k != nil && bytes.HasPrefix(k, p) && len(k) >= len(p)+8 {
				s.Oldest = parseTimeKey(k[len(p):])
				out[kind] = s
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("task stats: %w", err)
	}
	return out, nil
}
