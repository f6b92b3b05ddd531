package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCommandTable checks that the usage text comes from the table and that
// run dispatches through it, aliases included.
func TestCommandTable(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"help"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range commandTable() {
		if seen[c.name] {
			t.Errorf("command %q is in the table twice", c.name)
		}
		seen[c.name] = true
		if !strings.Contains(out.String(), "\n  "+strings.TrimSpace(c.name+" "+c.args)+"  ") {
			t.Errorf("usage does not list %q:\n%s", c.name, out.String())
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		want string // in stdout, or in the error
	}{
		{"version alias", []string{"--version"}, "notekeeper "},
		{"help alias", []string{"-h"}, "operator commands"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"no command", nil, "no command given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), tc.args, &out, &errOut)
			got := out.String()
			if err != nil {
				got = err.Error()
				if !strings.Contains(errOut.String(), "usage: notekeeper") {
					t.Errorf("a failed dispatch prints no usage on stderr: %q", errOut.String())
				}
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("run(%q) = %q, want %q", tc.args, got, tc.want)
			}
		})
	}
}
