package connector

import (
	"bytes"
	"encoding/json"
)

// ID is a vendor record ID as JSON gives it: a string ("123", "003…") or a
// number (Pipedrive's, HubSpot v4's toObjectId), kept as its decimal text.
// null decodes as "".
type ID string

// UnmarshalJSON accepts a string, a number or null.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*id = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*id = ID(n.String())
	return nil
}
