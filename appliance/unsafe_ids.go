package appliance

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/notekeeper/notekeeper/appliance/envelope"
	"github.com/notekeeper/notekeeper/store"
)

// unsafeIDAlerts returns the archive.failed alert for a notetaker.*
// notification whose data.object.id is a string Route refused (problem is
// Route's): an ID that is empty is only recorded, but one with a control,
// bidi or format character, or over-long, must be named in an alert like
// every unsafe ID (docs/archive.md; issue 18 #5). The ID is shown escaped
// (strconv.QuoteToASCII) in the alert's subject and message, so it can
// neither break a mail header nor reorder the text around it.
func unsafeIDAlerts(env *envelope.Envelope, problem string) []store.Alert {
	if problem == "" || env.Object == nil || !strings.HasPrefix(envelope.BaseType(env.Type), "notetaker.") {
		return nil
	}
	raw := env.Object.ID
	var id string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &id) != nil || id == "" {
		return nil
	}
	shown := strconv.QuoteToASCII(id)
	return []store.Alert{{Kind: "archive.failed", Subject: shown,
		Message: fmt.Sprintf("%s: %s (%s)", unsafeIDError, shown, problem)}}
}
