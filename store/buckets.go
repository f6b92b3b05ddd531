package store

import (
	"encoding/binary"
	"time"
)

// The bucket layout. Every bucket is created by Open; every key and value
// format is declared here and nowhere else. Integers in keys are big-endian so
// that bbolt's byte order is numeric order.
var (
	// meta: small named values.
	//   "schema_version" → 8-byte big-endian uint64
	//   "probe"          → 8-byte big-endian Unix nanoseconds of the last readiness probe
	bucketMeta = []byte("meta")

	// notifications: every accepted webhook notification, in arrival order.
	//   8-byte big-endian sequence (NextSequence) → encodeNotification (binary, see notification.go)
	bucketNotifications = []byte("notifications")

	// dedupe: the envelope id of every stored notification.
	//   envelope id (UTF-8, ≤ MaxEnvelopeIDLen bytes) → 8-byte big-endian notification sequence
	bucketDedupe = []byte("dedupe")

	// quarantine: signed requests that were not a usable notification (HTTP 400).
	//   8-byte big-endian sequence → JSON Quarantined
	bucketQuarantine = []byte("quarantine")

	// tasks: the durable work queue, one record per task key.
	//   task key "{kind}/{subject}" → JSON Task
	//   The bucket's sequence numbers leases (Task.LeaseID).
	bucketTasks = []byte("tasks")

	// tasks_due: when each live (not dead-lettered) task next becomes runnable;
	// for a leased task that is its lease expiry, so a crash re-runs it.
	//   8-byte big-endian Unix nanoseconds ‖ task key → empty
	bucketTasksDue = []byte("tasks_due")

	// notetakers: what is known of each Notetaker bot.
	//   Notetaker id → JSON Notetaker
	bucketNotetakers = []byte("notetakers")

	// bookings: what is known of each Scheduler booking.
	//   booking id → JSON Booking
	bucketBookings = []byte("bookings")

	// bookings_by_notetaker: which bookings name a Notetaker (the booking's
	// notetaker_id), for "which booking owns this meeting". Written in the
	// transaction that writes the booking.
	//   indexKey(notetaker id, booking id) → empty
	bucketBookingsByNotetaker = []byte("bookings_by_notetaker")

	// bookings_by_event: which bookings name a calendar event (the booking's
	// event_id), the fallback when no booking names the Notetaker. Written in
	// the transaction that writes the booking.
	//   indexKey(event id, booking id) → empty
	bucketBookingsByEvent = []byte("bookings_by_event")

	// grants: grants that notifications have told us about.
	//   grant id → JSON Grant
	bucketGrants = []byte("grants")

	// alerts: when an alert was last raised, for the once-per-hour limit.
	//   kind ‖ 0x00 ‖ subject → 8-byte big-endian Unix nanoseconds
	bucketAlerts = []byte("alerts")

	// alert_log: every alert raised, oldest first.
	//   8-byte big-endian sequence → JSON Alert
	bucketAlertLog = []byte("alert_log")

	// state: small named values kept by jobs and handlers.
	//   "reconciled/{grant id}" → JSON time of the last successful reconciliation
	//   "webhook/status"        → JSON WebhookStatus
	// (names in state.go).
	bucketState = []byte("state")

	// ats_delivery: what the ATS was told about each booking (delivery_ats.go).
	//   booking id → JSON ATSDelivery
	bucketATSDelivery = []byte("ats_delivery")

	// crm_delivery: what was delivered to the CRM per meeting (delivery_crm.go).
	//   Notetaker id → JSON CRMDelivery
	bucketCRMDelivery = []byte("crm_delivery")

	// followups: the follow-up e-mail of each archived meeting ([followup]):
	// intent recorded before the send, sent after it (followup.go).
	//   Notetaker id → JSON Followup
	bucketFollowups = []byte("followups")

	// counters: counts kept in the transactions that change what they
	// count (names in counters.go).
	//   name → 8-byte big-endian uint64
	bucketCounters = []byte("counters")

	// notetakers_pending: the Notetakers whose archive is pending
	// (ArchivePending), by Nylas' deletion deadline (Notetaker.Deadline).
	// Written in the transaction that writes the Notetaker.
	//   timeKey(deadline) ‖ Notetaker id → empty
	bucketNotetakersPending = []byte("notetakers_pending")

	// notetakers_archived: the archived, unpruned Notetakers retention may
	// prune one day, by the later of Nylas' deadline and the newest archived
	// file (prunableFrom). Written with the Notetaker.
	//   timeKey(prunable from) ‖ Notetaker id → empty
	bucketNotetakersArchived = []byte("notetakers_archived")

	// notetakers_by_first_seen: every Notetaker by when it was first seen,
	// for the meetings list newest first, a page at a time. Written when
	// the Notetaker is created (FirstSeen never changes).
	//   timeKey(first seen) ‖ Notetaker id → empty
	bucketNotetakersByFirstSeen = []byte("notetakers_by_first_seen")

	// tasks_by_kind: every live (not dead-lettered) task by kind and
	// creation time, for the oldest task of a kind. Written by putTask and
	// deleteTask.
	//   kind ‖ 0x00 ‖ timeKey(created) ‖ task key → empty
	bucketTasksByKind = []byte("tasks_by_kind")
)

// allBuckets is every bucket Open guarantees to exist.
var allBuckets = [][]byte{
	bucketMeta, bucketNotifications, bucketDedupe, bucketQuarantine,
	bucketTasks, bucketTasksDue, bucketNotetakers, bucketBookings,
	bucketBookingsByNotetaker, bucketBookingsByEvent,
	bucketGrants, bucketAlerts, bucketAlertLog, bucketState,
	bucketATSDelivery, bucketCRMDelivery, bucketFollowups,
	bucketCounters, bucketNotetakersPending, bucketNotetakersArchived, bucketTasksByKind,
	bucketNotetakersByFirstSeen,
}

var (
	keySchemaVersion = []byte("schema_version")
	keyProbe         = []byte("probe")
)

// u64 encodes v as an 8-byte big-endian key.
func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// dueKey is the tasks_due key for a task key runnable at t.
func dueKey(t time.Time, taskKey string) []byte {
	b := make([]byte, 8+len(taskKey))
	binary.BigEndian.PutUint64(b, uint64(t.UnixNano()))
	copy(b[8:], taskKey)
	return b
}

// parseDueKey splits a tasks_due key.
func parseDueKey(k []byte) (time.Time, string) {
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))), string(k[8:])
}

// indexKey is the key of a secondary index entry: the 2-byte big-endian
// length of value, value, then id. The length prefix keeps any value's
// entries apart from a longer value's that starts with it, whatever bytes the
// values hold; entries of one value sort by id.
func indexKey(value, id string) []byte {
	b := make([]byte, 0, 2+len(value)+len(id))
	b = binary.BigEndian.AppendUint16(b, uint16(len(value)))
	return append(append(b, value...), id...)
}

// indexPrefix is the common prefix of value's index entries.
func indexPrefix(value string) []byte { return indexKey(value, "") }

// alertKey is the alerts key for a kind and subject.
func alertKey(kind AlertKind, subject string) []byte {
	return append(append([]byte(kind), 0), subject...)
}

// beUint64 decodes an 8-byte big-endian value.
func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// timeUnixNano is time.Unix(0, n).
func timeUnixNano(n int64) time.Time { return time.Unix(0, n) }
