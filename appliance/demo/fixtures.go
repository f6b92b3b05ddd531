package demo

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
)

// fixtureFS holds realistic Nylas payloads (copied from the project's shared
// fixtures). The simulator and the script use them as templates: they
// decode one, change IDs, times and links, and encode it again, so the
// shapes stay exactly Nylas'.
//
//go:embed fixtures/*.json
var fixtureFS embed.FS

// object is a decoded JSON object.
type object = map[string]any

// fixture decodes fixtures/name; numbers stay json.Number so that integer
// times survive the round trip.
func fixture(name string) object {
	b, err := fixtureFS.ReadFile("fixtures/" + name)
	if err != nil {
		panic(err) // embedded at build time
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var o object
	if err := d.Decode(&o); err != nil {
		panic(fmt.Sprintf("fixture %s: %v", name, err))
	}
	return o
}

// at returns the object at path inside o, which must exist.
func at(o object, path ...string) object {
	for _, k := range path {
		next, ok := o[k].(object)
		if !ok {
			panic(fmt.Sprintf("fixture: no object at %q", k))
		}
		o = next
	}
	return o
}

// compact encodes v without white space, as Nylas sends notifications.
func compact(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of JSON values always encode
	}
	return b
}
