package store

// The vocabulary of the queue and of alerts. Every task kind and every alert
// kind notekeeper uses is declared here, once; code and tests use these names,
// never a string of their own. A kind is part of the stored data (task keys,
// the alert log, alert-limit keys), so a kind's value never changes once
// released.

// TaskKind names what a task does; it selects the handler that runs it. A task
// key is "{kind}/{subject}" (TaskRef.Key), so a kind never contains '/'.
type TaskKind string

// Task kinds, with the subject each task is about.
const (
	// TaskNotetaker merges notetaker.* notifications into the Notetaker's
	// record. Subject: Notetaker ID.
	TaskNotetaker TaskKind = "notetaker"
	// TaskBooking merges booking.* notifications into the booking's record.
	// Subject: booking ID.
	TaskBooking TaskKind = "booking"
	// TaskGrant merges grant.* notifications into the grant's record.
	// Subject: grant ID.
	TaskGrant TaskKind = "grant"
	// TaskArchive downloads a Notetaker's media into the archive. Subject:
	// Notetaker ID.
	TaskArchive TaskKind = "archive"
	// TaskCRM pushes one archived meeting that belongs to no booking to the
	// CRM. Subject: Notetaker ID.
	TaskCRM TaskKind = "crm"
	// TaskATS keeps a booking's interview in step in the ATS. Subject:
	// booking ID.
	TaskATS TaskKind = "ats"
	// TaskATSRecording posts a booked meeting's recording to the ATS.
	// Subject: Notetaker ID.
	TaskATSRecording TaskKind = "ats_recording"
	// TaskFollowup e-mails one archived meeting's summary and action items
	// to its participants ([followup]). Subject: Notetaker ID.
	TaskFollowup TaskKind = "followup"
	// TaskAlert delivers one alert to one sink. Subject: "{alert
	// sequence}-{sink index}" (AlertTask).
	TaskAlert TaskKind = "alert"
)

// TaskKinds is every task kind, in pipeline order.
var TaskKinds = []TaskKind{
	TaskNotetaker, TaskBooking, TaskGrant, TaskArchive, TaskCRM, TaskATS, TaskATSRecording, TaskFollowup, TaskAlert,
}

// AlertKind names what an alert is about; [[alert]] kinds filters on it.
type AlertKind string

// Alert kinds, with the subject each alert names.
const (
	// AlertFailedEntry: the Notetaker bot could not join its meeting.
	// Subject: Notetaker ID.
	AlertFailedEntry AlertKind = "notetaker.failed_entry"
	// AlertMediaError: Nylas reported a media error; the media is asked for
	// again. Subject: Notetaker ID.
	AlertMediaError AlertKind = "notetaker.media_error"
	// AlertArchiveAtRisk: a meeting is not fully archived and Nylas deletes
	// its media soon. Subject: Notetaker ID.
	AlertArchiveAtRisk AlertKind = "archive.at_risk"
	// AlertArchiveFailed: a meeting's media could not be archived and will
	// not be without help (dead letter, media deleted first, unsafe ID).
	// Subject: Notetaker ID.
	AlertArchiveFailed AlertKind = "archive.failed"
	// AlertGrantExpired: a grant expired and its owner must
	// re-authenticate. Subject: grant ID.
	AlertGrantExpired AlertKind = "grant.expired"
	// AlertDiskLow: the data dir's file system is below min_free_bytes, so
	// downloads wait. Subject: the data dir.
	AlertDiskLow AlertKind = "disk.low"
	// AlertWebhookUnhealthy: Nylas marks this appliance's webhook
	// destination failing or failed. Subject: webhook destination ID.
	AlertWebhookUnhealthy AlertKind = "webhook.unhealthy"
	// AlertDeliveryFailed: a task other than an archive or an alert was
	// dead-lettered (a CRM or ATS delivery, a record merge). Subject: the
	// task's subject.
	AlertDeliveryFailed AlertKind = "delivery.failed"
	// AlertTLSFailed: a certificate could not be obtained or renewed.
	// Subject: the domain.
	AlertTLSFailed AlertKind = "tls.failed"
)

// AlertKinds is every alert kind, in the order the documentation lists them.
var AlertKinds = []AlertKind{
	AlertFailedEntry, AlertMediaError, AlertArchiveAtRisk, AlertArchiveFailed,
	AlertGrantExpired, AlertDiskLow, AlertWebhookUnhealthy, AlertDeliveryFailed, AlertTLSFailed,
}
