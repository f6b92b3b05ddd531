package connector

import (
	"context"
	"errors"
	"time"
)

// Participant is one person of a meeting, as the calendar event names them.
// Email is lower case and trimmed.
type Participant struct{ Name, Email string }

// Meeting is what a CRM record of one sales meeting says. The delivery state
// machine builds it from the archived meeting; connectors only read it.
type Meeting struct {
	// NotetakerID is the marker written into the record (a field or a marker
	// line), so FindMeeting can find a record whose create answer was lost.
	NotetakerID string
	// ICalUID is the calendar event's iCalendar UID, "" when unknown; a CRM's
	// own calendar sync may have logged the meeting under it (HubSpot).
	ICalUID string
	Title   string
	// StartsAt and EndsAt are the event's times, zero when unknown.
	StartsAt, EndsAt time.Time
	Summary          string
	ActionItems      []string
	// RecordingURL and TranscriptURL are this appliance's signed /files
	// links ("" when not archived), never Nylas media URLs.
	RecordingURL, TranscriptURL string
	// Participants are the external participants, in event order.
	Participants []Participant
}

// Contact is a CRM contact (HubSpot contact, Pipedrive person, Salesforce
// Contact, Close contact) matched or created for a participant.
type Contact struct {
	ID    string
	Email string
	// DealID is the contact's open deal or opportunity, "" when none.
	DealID string
	// CompanyID is the contact's company: the HubSpot company, the Close
	// lead (notes hang on the lead); "" when none or when the vendor has no
	// such thing.
	CompanyID string
}

// CRM is one vendor's API, reduced to the calls that log a meeting exactly
// once. Implementations are safe for concurrent use and make no retries of
// their own: each call is one attempt (a token fetch may precede it), and
// its error is classified for the task queue:
//
//   - *apperr.RetryAfterError: 429 (or the vendor's rate-limit answer) with a
//     wait taken from Retry-After or the vendor's rate-limit headers;
//   - a plain error: 5xx, network failure, a lost answer: retry later;
//   - apperr.Permanent(*outbound.StatusError): any other 4xx; the StatusError's
//     Unauthorized() is true when the credentials are wrong (401/403, or the
//     vendor's equivalent after one token refresh).
//
// A create may have committed even when it returns an error (the answer was
// lost); the caller records its intent first and calls FindMeeting/FindTask
// before creating again. ctx bounds every call.
type CRM interface {
	// Name is the connector's [crm] type ("hubspot", "rest", …).
	Name() string
	// FindContacts looks emails up (exact, case-insensitive). The map is
	// keyed by the lower-case e-mail; an e-mail absent from it is unmatched.
	FindContacts(ctx context.Context, emails []string) (map[string]Contact, error)
	// CreateContact creates a contact for p; when the vendor says it exists
	// already (HubSpot 409), that contact is returned.
	CreateContact(ctx context.Context, p Participant) (Contact, error)
	// FindMeeting returns the ID of the record carrying m.NotetakerID as its
	// marker (HubSpot: also a calendar-synced meeting with m.ICalUID), ""
	// when there is none. A record created less than SearchLag ago may be
	// missing.
	FindMeeting(ctx context.Context, m *Meeting) (string, error)
	// CreateMeeting creates the one record of m, associated with contacts
	// (all of them) and dealID ("" for none), and returns its ID.
	CreateMeeting(ctx context.Context, m *Meeting, contacts []Contact, dealID string) (string, error)
	// UpdateMeeting rewrites record id with m's content and associations.
	UpdateMeeting(ctx context.Context, id string, m *Meeting, contacts []Contact, dealID string) error
	// FindTask returns the ID of the task carrying marker, "" when none.
	FindTask(ctx context.Context, marker string) (string, error)
	// CreateTask creates one task with text, marked with marker, linked like
	// the meeting meetingID, and returns its ID.
	CreateTask(ctx context.Context, marker, text, meetingID string, contacts []Contact, dealID string) (string, error)
	// Probe makes one authenticated read: nil when the credentials work.
	Probe(ctx context.Context) error
	// RecordURL is record id's page in the vendor's UI, "" when no URL can be
	// built.
	RecordURL(id string) string
	// SearchLag is how long a freshly created record may stay invisible to
	// FindMeeting and FindTask (HubSpot's search index: ~10 s); 0 when
	// lookups see creates at once.
	SearchLag() time.Duration
}

// ErrUnsupported is returned (wrapped) by a connector for a call its vendor
// or contract cannot make (the rest contract creates neither contacts nor
// tasks): the caller skips that step instead of failing the delivery.
var ErrUnsupported = errors.New("not supported by this connector")
