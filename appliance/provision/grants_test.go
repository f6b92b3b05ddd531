package provision_test

import (
	"strings"
	"testing"

	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/provision"
)

func TestWriteGrants(t *testing.T) {
	gs := []nylas.Grant{
		{ID: "g-1", Email: "rep@acme.example", Provider: "google", GrantStatus: "valid"},
		{ID: "g-22", Email: "recruiting@acme.example", Provider: "microsoft", GrantStatus: "invalid"},
	}
	var b strings.Builder
	if err := provision.WriteGrants(&b, gs, []string{"g-22", "g-gone"}); err != nil {
		t.Fatal(err)
	}
	want := `  ID    EMAIL                    PROVIDER   STATUS
  g-1   rep@acme.example         google     valid
* g-22  recruiting@acme.example  microsoft  invalid
warning: [nylas] grants lists g-gone, which this application does not have
warning: grant g-22 (recruiting@acme.example) is invalid: the user must re-authenticate
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
