package config

import (
	"fmt"
	"strings"
)

// Error is returned by Parse and Load for a configuration
// that cannot be used. It lists every problem found, in file order.
type Error struct {
	Problems []Problem
}

// Problem is one thing wrong with a configuration. Key is the full key it is
// about: "server.max_body_bytes", "nylas.webhook_secrets[0]", "alert[1].url",
// "admin.users.bob"; it is empty for a TOML syntax error, whose Message starts
// with "line N:".
type Problem struct {
	Key     string
	Message string
}

// String returns "key: message", or the message alone when Key is empty.
func (p Problem) String() string {
	if p.Key == "" {
		return p.Message
	}
	return p.Key + ": " + p.Message
}

// Error returns "config: key: message" for a single problem, and for several
// "config: N problems:" followed by one indented "key: message" line each.
func (e *Error) Error() string {
	switch len(e.Problems) {
	case 0:
		return "config: invalid"
	case 1:
		return "config: " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "config: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}
