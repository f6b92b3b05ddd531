package config

import "github.com/robfig/cron/v3"

// The values below are facts other packages own. config imports no package
// of this project (it is a leaf, like store/), so it cannot take them from
// their owners; it keeps its own copy as the values it accepts, and
// package main's TestConfigFacts (facts_test.go at the root) fails when a
// copy and its owner drift apart.

// ArchiveKinds returns the media kinds [archive] kinds accepts, in the
// order Nylas lists a Notetaker's media. Owner: the archiver, which
// downloads each kind from a notetaker's media links.
func ArchiveKinds() []string {
	return []string{"recording", "transcript", "summary", "action_items", "thumbnail"}
}

// AlertKinds returns the alert kinds an [[alert]] kinds list may name: every
// kind of alert the appliance raises. Owner: the store's alert vocabulary.
func AlertKinds() []string {
	return []string{
		"notetaker.failed_entry", "notetaker.media_error", "archive.at_risk", "archive.failed",
		"grant.expired", "disk.low", "webhook.unhealthy", "delivery.failed", "tls.failed",
	}
}

// ReservedPaths returns the paths the appliance's own routes use, which
// [server] webhook_path must avoid. A path ending in "/" reserves the whole
// subtree (and the path without its "/"). Owner: the appliance's route
// table.
func ReservedPaths() []string {
	return []string{"/", "/healthz", "/readyz", "/metrics", "/files/", "/admin/"}
}

// cronParser accepts the schedule syntax of [jobs]: the five standard cron
// fields or a descriptor ("@every 30m", "@daily"). It must stay the parser
// the jobs package schedules with, so that a spec `check` accepts always
// runs.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
