package provision

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/notekeeper/notekeeper/appliance/nylas"
)

// WriteGrants prints grants as `notekeeper nylas grants` shows them: one
// line each with ID, e-mail, provider and status, a "*" before those
// already in [nylas] grants (configured), and a closing hint when a
// configured grant is missing or invalid.
func WriteGrants(w io.Writer, grants []nylas.Grant, configured []string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tEMAIL\tPROVIDER\tSTATUS")
	seen := map[string]bool{}
	for _, g := range grants {
		mark := " "
		if slices.Contains(configured, g.ID) {
			mark, seen[g.ID] = "*", true
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\n", mark, g.ID, g.Email, g.Provider, cmpOr(g.GrantStatus, "valid"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, id := range configured {
		if !seen[id] {
			fmt.Fprintf(w, "warning: [nylas] grants lists %s, which this application does not have\n", id)
		}
	}
	for _, g := range grants {
		if seen[g.ID] && g.GrantStatus == "invalid" {
			fmt.Fprintf(w, "warning: grant %s (%s) is invalid: the user must re-authenticate\n", g.ID, g.Email)
		}
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
