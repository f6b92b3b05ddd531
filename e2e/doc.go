// Package e2e tests the built notekeeper binary from the outside, as an
// operator and Nylas meet it: TestMain builds the binary once, and each
// test runs it as a child process against a temporary data dir and talks to
// it over HTTP, its commands and its socket, with stand-ins (httptest
// servers, a real S3 server, Pebble) for everything it calls. Kill -9 and
// SIGTERM under load, resumed downloads and uploads, the operator CLI,
// systemd's notify protocol, automatic HTTPS, the demo in a browser, and
// the soak (opt-in: -soak.duration).
//
// The package holds tests only; what they share (building, starting and
// stopping the daemon, free ports, config files, signed posts, waiting) is
// in harness_test.go. It imports exported packages of the module, never
// package main: what a test needs of main it reaches through the binary.
//
//	go test ./e2e                                   # the soak skipped
//	go test -run Soak ./e2e -soak.duration 2m       # the soak, as CI runs it
package e2e
