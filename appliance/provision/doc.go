// Package provision makes the Nylas side declarative (docs/nylas-setup.md): the
// [[calendar]] tables (a calendar's Notetaker rules) and the [[scheduler]]
// tables (a Scheduler Configuration with its booking page and the bot on
// every booking) are compared with what Nylas holds (Plan) and written
// where they differ (Apply). It also sends ad-hoc bots without ever sending
// one twice (Joiner).
//
// # Layers
//
// declared.go holds the tables as main fills them from the config (the
// config package owns decoding and validation). fields.go turns a table
// into the object Nylas should hold (desiredCalendar, desiredConfiguration:
// the typed model of package nylas, whose encode… functions own the wire
// shapes) and turns both that object and Nylas' answer into the same list
// of normalised declared keys: a key Nylas left out takes Nylas' documented
// default, keys the tables do not declare are not in the list, so defaults
// Nylas fills in and settings made elsewhere never count as drift. plan.go
// diffs those lists; apply.go writes what differs and reads it back through
// the same diff.
//
// # Finding a configuration
//
// Nylas gives configurations no owner marker and no lookup by slug, and its
// create takes no Idempotency-Key. A [[scheduler]] is found by the ID kept
// for its name in {data_dir}/nylas-configurations.json (StateFile: a JSON
// file, not the bbolt store, because the CLI runs while the daemon holds
// the store's lock), else by its slug among the grant's configurations,
// every page, else it is created and its ID stored at once. Nothing is
// deleted: a table removed from the config leaves its configuration alone.
//
// # Choices where Nylas' sources conflict
//
//   - Calendar sync off: PUT {"notetaker": null}, then the read-back must
//     show no notetaker object, else apply fails saying so.
//   - Calendar rules: the legacy notetaker{name, meeting_settings, rules}
//     shape of the OpenAPI contract and every SDK, never mixed with the
//     newer notetaker_settings (mixing is a 400); the encoder in package
//     nylas is the one place to switch.
//   - Round-robin: participants are sent for every availability method,
//     each with is_organizer, one of them true (docs/nylas-setup.md, Nylas' interview
//     guide); the read-back reports it if Nylas drops them.
//   - A Scheduler bot: scheduler.notetaker_settings{enabled, notetaker_name,
//     show_ui_consent_message, meeting_settings}, as the contract has it.
package provision
