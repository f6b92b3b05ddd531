package vendorhttp

import (
	"encoding/json"
	"testing"
)

func TestList_ArrayOrObject(t *testing.T) {
	cases := []struct {
		name, raw string
		n         int
		err       bool
	}{
		{"array", `[{"id":1},{"id":2}]`, 2, false},
		{"data", `{"data":[{"id":1}]}`, 1, false},
		{"async message", `{"message":"Your request is being processed"}`, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out []struct{ ID json.Number }
			err := List(json.RawMessage(tc.raw), &out)
			if (err != nil) != tc.err || len(out) != tc.n {
				t.Fatalf("got %d items, %v", len(out), err)
			}
		})
	}
}
