package store

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A Notetaker's archive state, kept as a counter per state and, for the two
// states jobs work through, as an index (buckets.go): notetakers_pending
// holds the meetings whose archive is pending, by Nylas' deletion deadline;
// notetakers_archived the archived meetings whose local files retention may
// one day remove. Both are written in the transaction that writes the
// Notetaker (UpdateNotetaker), so archive_sweep, refresh_media, the at-risk
// gauge and retention read what is pending, not every meeting ever recorded.
const (
	ArchiveNone    = "none"    // no media offered (yet): nothing to archive
	ArchivePending = "pending" // media available (or in error, asked again) and not fully archived
	ArchiveDone    = "done"    // every wanted kind archived
	ArchivePruned  = "pruned"  // archived, then the local copies removed by retention
)

// DefaultRetention is how long Nylas keeps media when nothing says
// otherwise (the media endpoint's expires_at, a retained_until).
const DefaultRetention = 14 * 24 * time.Hour

// Deadline is when Nylas deletes the Notetaker's media: DeletesAt, else
// AvailableAt plus DefaultRetention, else FirstSeen plus DefaultRetention.
func (nt *Notetaker) Deadline() time.Time {
	switch {
	case !nt.DeletesAt.IsZero():
		return nt.DeletesAt
	case !nt.AvailableAt.IsZero():
		return nt.AvailableAt.Add(DefaultRetention)
	}
	return nt.FirstSeen.Add(DefaultRetention)
}

// ArchiveState is one of ArchiveNone, ArchivePending, ArchiveDone and
// ArchivePruned.
func (nt *Notetaker) ArchiveState() string {
	switch {
	case !nt.PrunedAt.IsZero():
		return ArchivePruned
	case nt.ArchiveDone:
		return ArchiveDone
	case nt.MediaStatus == "available" || nt.MediaStatus == "error":
		return ArchivePending
	}
	return ArchiveNone
}

// notetakerEntries is what the counters and indexes hold of one Notetaker;
// the zero value stands for no Notetaker.
type notetakerEntries struct {
	state    string
	pending  []byte // notetakers_pending key, nil unless pending
	archived []byte // notetakers_archived key, nil unless retention may prune it one day
	seen     []byte // notetakers_by_first_seen key
}

func entriesOf(nt *Notetaker) notetakerEntries {
	if nt.ID == "" {
		return notetakerEntries{}
	}
	e := notetakerEntries{state: nt.ArchiveState(), seen: timeIDKey(nt.FirstSeen, nt.ID)}
	switch e.state {
	case ArchivePending:
		e.pending = timeIDKey(nt.Deadline(), nt.ID)
	case ArchiveDone:
		if at, ok := prunableFrom(nt); ok {
			e.archived = timeIDKey(at, nt.ID)
		}
	}
	return e
}

// prunableFrom is the earliest time retention could remove nt's files:
// after Nylas' deadline and after its newest archived file (keep_days is
// added by the caller). ok is false when no file is archived or no deadline
// is known (retention never prunes those).
func prunableFrom(nt *Notetaker) (time.Time, bool) {
	if len(nt.Archived) == 0 || nt.DeletesAt.IsZero() {
		return time.Time{}, false
	}
	at := nt.DeletesAt
	for _, f := range nt.Archived {
		if f.ArchivedAt.After(at) {
			at = f.ArchivedAt
		}
	}
	return at, true
}

// reindexNotetaker moves one Notetaker's counters and index entries from
// was to now.
func reindexNotetaker(tx *bolt.Tx, was, now notetakerEntries) error {
	if was.state != now.state {
		if was.state != "" {
			if err := addCounter(tx, notetakersCounter(was.state), -1); err != nil {
				return err
			}
		}
		if now.state != "" {
			if err := addCounter(tx, notetakersCounter(now.state), 1); err != nil {
				return err
			}
		}
	}
	for _, ix := range []struct {
		bucket   []byte
		was, now []byte
	}{
		{bucketNotetakersPending, was.pending, now.pending},
		{bucketNotetakersArchived, was.archived, now.archived},
		{bucketNotetakersByFirstSeen, was.seen, now.seen},
	} {
		if bytes.Equal(ix.was, ix.now) {
			continue
		}
		b := tx.Bucket(ix.bucket)
		if ix.was != nil {
			if err := b.Delete(ix.was); err != nil {
				return err
			}
		}
		if ix.now != nil {
			if err := b.Put(ix.now, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// PendingArchives returns the Notetakers whose archive is pending
// (ArchivePending), soonest deadline first: all of them with a zero
// until, else those whose Deadline is before until. It reads the
// notetakers_pending index, so its cost follows the pending meetings, not
// the history.
func (db *DB) PendingArchives(until time.Time) ([]*Notetaker, error) {
	nts, err := db.indexedNotetakers(bucketNotetakersPending, until)
	if err != nil {
		return nil, fmt.Errorf("list pending archives: %w", err)
	}
	return nts, nil
}

// ArchivedBefore returns the archived, not yet pruned Notetakers whose
// Nylas deadline and newest archived file are both before before, oldest
// first: the meetings retention may prune (it checks the rest of its rules
// itself). Meetings with no archived file or no known deadline are never
// listed.
func (db *DB) ArchivedBefore(before time.Time) ([]*Notetaker, error) {
	nts, err := db.indexedNotetakers(bucketNotetakersArchived, before)
	if err != nil {
		return nil, fmt.Errorf("list archived meetings: %w", err)
	}
	return nts, nil
}

// indexedNotetakers decodes the Notetakers of a timeIDKey index up to
// until (zero: all), in index order.
func (db *DB) indexedNotetakers(index []byte, until time.Time) ([]*Notetaker, error) {
	var out []*Notetaker
	err := db.view(func(tx *bolt.Tx) error {
		nb := tx.Bucket(bucketNotetakers)
		c := tx.Bucket(index).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if !until.IsZero() && !parseTimeKey(k).Before(until) {
				break
			}
			id := k[8:]
			v := nb.Get(id)
			if v == nil {
				return fmt.Errorf("index %s names a missing Notetaker %q", index, id)
			}
			nt := new(Notetaker)
			if err := json.Unmarshal(v, nt); err != nil {
				return fmt.Errorf("decode notetaker %q: %w", id, err)
			}
			out = append(out, nt)
		}
		return nil
	})
	return out, err
}

// RecentNotetakers returns up to limit Notetakers, newest first (by
// FirstSeen), starting after the cursor a previous call returned ("" for
// the newest), and the cursor of the next page ("" when there is none). It
// reads one page of the notetakers_by_first_seen index, whatever the size
// of the history.
func (db *DB) RecentNotetakers(cursor string, limit int) ([]*Notetaker, string, error) {
	var out []*Notetaker
	next := ""
	err := db.view(func(tx *bolt.Tx) error {
		nb := tx.Bucket(bucketNotetakers)
		c := tx.Bucket(bucketNotetakersByFirstSeen).Cursor()
		var k []byte
		if cursor == "" {
			k, _ = c.Last()
		} else {
			after, err := hex.DecodeString(cursor)
			if err != nil {
				return fmt.Errorf("bad cursor %q", cursor)
			}
			// The entry before the cursor's (which may have gone).
			if k, _ = c.Seek(after); k == nil {
				k, _ = c.Last()
			}
			for k != nil && bytes.Compare(k, after) >= 0 {
				k, _ = c.Prev()
			}
		}
		for ; k != nil; k, _ = c.Prev() {
			if len(out) == limit {
				next = hex.EncodeToString(out[len(out)-1].seenKey())
				break
			}
			v := nb.Get(k[8:])
			if v == nil {
				return fmt.Errorf("index %s names a missing Notetaker %q", bucketNotetakersByFirstSeen, k[8:])
			}
			nt := new(Notetaker)
			if err := json.Unmarshal(v, nt); err != nil {
				return fmt.Errorf("decode notetaker %q: %w", k[8:], err)
			}
			out = append(out, nt)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list recent notetakers: %w", err)
	}
	return out, next, nil
}

func (nt *Notetaker) seenKey() []byte { return timeIDKey(nt.FirstSeen, nt.ID) }
