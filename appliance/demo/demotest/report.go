// Package demotest reads the report `notekeeper demo` prints
// (demo.World.Report), for the tests that run the demo: the unit test of
// package main and the browser test in e2e/.
package demotest

import (
	"regexp"
	"strings"
)

// Lines of the report that tests read.
var (
	// MeetingLine opens one archived meeting: its Notetaker ID.
	MeetingLine = regexp.MustCompile(`^  (nt\w+)  `)
	// FileLine is one archived file of the meeting above: name, bytes, sha256.
	FileLine = regexp.MustCompile(`^    (\S+)\s+(\d+) B  sha256 ([0-9a-f]{64})$`)
	// DataDirLine names the demo's data dir.
	DataDirLine = regexp.MustCompile(`(?m)^  data dir\s+(\S+) `)
	// AdminLine is the admin UI's URL, user and throw-away password.
	AdminLine = regexp.MustCompile(`(?m)^Admin UI: (http://127\.0\.0\.1:\d+/admin/)  user: (demo)  password: ([A-Z2-7]{20})  `)
)

// Files parses the "Archived" part of the report: Notetaker ID → archived
// file name → "bytes sha256".
func Files(out string) map[string]map[string]string {
	files := map[string]map[string]string{}
	current := ""
	for _, line := range strings.Split(out, "\n") {
		if m := MeetingLine.FindStringSubmatch(line); m != nil {
			current = m[1]
			files[current] = map[string]string{}
		} else if m := FileLine.FindStringSubmatch(line); m != nil && current != "" {
			files[current][m[1]] = m[2] + " " + m[3]
		}
	}
	return files
}
