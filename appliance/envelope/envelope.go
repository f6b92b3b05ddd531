// Package envelope reads what every Nylas webhook notification shares, the
// envelope {id, type, time, webhook_delivery_attempt, data.object}, and
// decides which task it implies (Route): the first step of the pipeline,
// taken by the receiver at ingest and again by the operator commands that
// list or replay stored notifications.
//
// Parsing is lenient where Nylas varies and strict where the store relies on
// a value: the envelope id (the dedupe key) and type must be usable strings;
// an odd data.object is recorded, not refused.
package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/notekeeper/notekeeper/store"
)

// maxTypeLen bounds an envelope type.
const maxTypeLen = 256

// Envelope is the part of a Nylas notification notekeeper routes on.
// Unknown fields are ignored.
type Envelope struct {
	ID      string // envelope id: the dedupe key
	Type    string // as sent, suffixes included
	Time    int64  // Unix seconds; 0 when absent or not a number
	Attempt int    // webhook_delivery_attempt; 0 when absent
	// Object holds the ID fields of data.object when it is a JSON object;
	// nil otherwise, with ObjectErr saying why.
	Object    *ObjectIDs
	ObjectErr string
}

// ObjectIDs are the raw JSON values of the data.object fields that name a
// notification's subject. Each is nil when absent.
type ObjectIDs struct {
	ID        json.RawMessage `json:"id"`         // notetaker.*
	BookingID json.RawMessage `json:"booking_id"` // booking.*
	GrantID   json.RawMessage `json:"grant_id"`   // grant.*
}

// ErrNotEnvelope is wrapped by Parse's errors.
var ErrNotEnvelope = errors.New("not a notification")

// Parse parses body as a notification envelope. It fails (wrapping
// ErrNotEnvelope) unless body is a JSON object with a non-empty string id of
// at most store.MaxEnvelopeIDLen bytes and a non-empty string type. A missing
// or odd data.object is not an error: ObjectErr records it.
//
// The body is decoded once: this runs on every webhook request.
func Parse(body []byte) (*Envelope, error) {
	var raw struct {
		ID      json.RawMessage `json:"id"`
		Type    json.RawMessage `json:"type"`
		Time    json.RawMessage `json:"time"`
		Attempt json.RawMessage `json:"webhook_delivery_attempt"`
		Data    struct {
			Object *ObjectIDs `json:"object"`
		} `json:"data"`
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON object", ErrNotEnvelope)
	}
	env := &Envelope{}
	// Every field is raw except data and data.object, so a type error can
	// only mean one of those two is not an object: the envelope is usable,
	// its object is not. Decoding goes on past a type error.
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(body, &raw); errors.As(err, &typeErr) {
		env.ObjectErr = "data or data.object is not an object"
	} else if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotEnvelope, err)
	} else if raw.Data.Object == nil {
		env.ObjectErr = "data.object is missing"
	} else {
		env.Object = raw.Data.Object
	}
	var err error
	if env.ID, err = requiredString(raw.ID, "id", store.MaxEnvelopeIDLen); err != nil {
		return nil, err
	}
	if env.Type, err = requiredString(raw.Type, "type", maxTypeLen); err != nil {
		return nil, err
	}
	_ = json.Unmarshal(raw.Time, &env.Time)       // tolerated: only used for ordering
	_ = json.Unmarshal(raw.Attempt, &env.Attempt) // tolerated: informational
	return env, nil
}

func requiredString(raw json.RawMessage, name string, max int) (string, error) {
	if !utf8.Valid(raw) {
		return "", fmt.Errorf("%w: %s is not valid UTF-8", ErrNotEnvelope, name)
	}
	s, ok := jsonString(raw)
	if !ok {
		return "", fmt.Errorf("%w: %s is missing or not a string", ErrNotEnvelope, name)
	}
	if s == "" || len(s) > max || !utf8.ValidString(s) || strings.ContainsFunc(s, isControl) {
		return "", fmt.Errorf("%w: %s is empty, longer than %d bytes or not printable", ErrNotEnvelope, name, max)
	}
	return s, nil
}

// jsonString decodes raw when it is a JSON string of valid UTF-8. The raw
// bytes are checked: json.Unmarshal would replace an invalid byte (or a
// lone surrogate escape) with U+FFFD, and two IDs differing only there
// would become one (issue 18 #4); U+FFFD itself is refused by isControl.
func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || !utf8.Valid(raw) || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// isControl reports whether r may not appear in an ID or type: C0 and C1
// controls and DEL, format characters (unicode.Cf: bidi controls such as
// U+202E, zero-width characters, the BOM, the soft hyphen), the other bidi
// controls, the line and paragraph separators, and U+FFFD, which stands for
// bytes that were not UTF-8. Such an ID is refused rather than escaped
// wherever it is shown (issue 18 #6).
func isControl(r rune) bool {
	return unicode.IsControl(r) || r == 0x2028 || r == 0x2029 || r == utf8.RuneError ||
		unicode.In(r, unicode.Cf, unicode.Bidi_Control)
}

// DecodeObject decodes data.object of a notification body into a T (one of
// the nylas package's object shapes).
func DecodeObject[T any](body []byte) (*T, error) {
	var v struct {
		Data struct {
			Object T `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("data.object: %w", err)
	}
	return &v.Data.Object, nil
}

// BaseType strips the ".truncated" and ".transformed" suffixes Nylas adds, in
// any order, so "notetaker.media.truncated" routes as "notetaker.media".
func BaseType(t string) string {
	for {
		s := strings.TrimSuffix(strings.TrimSuffix(t, ".truncated"), ".transformed")
		if s == t {
			return t
		}
		t = s
	}
}
