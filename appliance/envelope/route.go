package envelope

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/notekeeper/notekeeper/store"
)

// maxSubjectLen bounds a task subject taken from a payload.
const maxSubjectLen = 256

// Route decides which tasks a notification implies, by its base type:
// notetaker.* a TaskNotetaker on data.object.id, booking.* a TaskBooking on
// data.object.booking_id, grant.* a TaskGrant on data.object.grant_id. Every
// notification about one Notetaker, booking or grant maps to the
// same task key, so redeliveries and bursts coalesce. Unknown types imply no
// task. When a known type's data.object is unusable Route returns no task and
// a processing error to record with the notification.
func Route(env *Envelope) ([]store.TaskRef, string) {
	base := BaseType(env.Type)
	var kind store.TaskKind
	var field string
	var raw json.RawMessage
	switch {
	case strings.HasPrefix(base, "notetaker."):
		kind, field = store.TaskNotetaker, "id"
	case strings.HasPrefix(base, "booking."):
		kind, field = store.TaskBooking, "booking_id"
	case strings.HasPrefix(base, "grant."):
		kind, field = store.TaskGrant, "grant_id"
	default:
		return nil, ""
	}
	if env.Object == nil {
		return nil, env.ObjectErr
	}
	switch field {
	case "id":
		raw = env.Object.ID
	case "booking_id":
		raw = env.Object.BookingID
	case "grant_id":
		raw = env.Object.GrantID
	}
	subject, ok := jsonString(raw)
	if !ok {
		return nil, fmt.Sprintf("data.object.%s is missing or not a string", field)
	}
	if subject == "" || len(subject) > maxSubjectLen || strings.ContainsFunc(subject, isControl) {
		return nil, fmt.Sprintf("data.object.%s is empty, longer than %d bytes or not printable", field, maxSubjectLen)
	}
	return []store.TaskRef{{Kind: kind, Subject: subject}}, ""
}
