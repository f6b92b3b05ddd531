// Package demo holds what `notekeeper demo` runs beside the real appliance so
// that the whole pipeline can be watched on one machine with no Nylas
// account and nothing else installed:
//
//   - Simulator: the Nylas API endpoints notekeeper calls (Notetakers, their
//     media, calendar events, webhook destinations) plus a storage host that
//     serves generated media behind signed, expiring URLs, as Nylas' storage
//     does (403 once expired or when the signature is wrong);
//   - CRM, ATS and AlertSink: stand-ins for the CRM and ATS REST contracts and
//     for an alert webhook, recording every request they receive;
//   - Meeting and Script: the three scenarios (a sales meeting, a booked
//     interview, a bot stuck in the lobby) with their media and their
//     notifications, built from the Nylas payloads in fixtures/;
//   - Driver: posts notifications to the appliance's webhook path signed with
//     X-Nylas-Signature, through the real HTTP path.
//
// Everything listens on 127.0.0.1 on a free port and is opened with Open and
// closed with Close. Nothing here is used by `notekeeper serve`.
package demo
