package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// The version command.

func runVersion(_ context.Context, _ []string, std stdio) error {
	_, err := fmt.Fprintln(std.Out, versionString())
	return err
}

// versionString is "notekeeper VERSION (commit REV[, modified]) GOVERSION".
func versionString() string {
	commit, modified, goVersion := "unknown", "", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = ", modified"
				}
			}
		}
	}
	return fmt.Sprintf("notekeeper %s (commit %s%s) %s", Version, commit, modified, goVersion)
}
