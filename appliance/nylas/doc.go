// Package nylas is notekeeper's client for the parts of the Nylas v3 API it
// uses: Notetakers (one, a page, all pages, media links, history; and the
// ad-hoc create, cancel and leave), calendar events, webhook destinations,
// and what `notekeeper nylas plan|apply` provisions: calendars' Notetaker
// rules, Scheduler configurations, the grants list, and messages/send for
// the follow-up e-mail.
//
// # Wire shapes
//
// Each provisioning request body is built by exactly one function named
// encode… (encodeCalendarNotetaker, encodeConfiguration,
// encodeConfigurationUpdate, encodeNotetakerCreate, encodeMessage), so a
// shape Nylas changes — the calendar's notetaker object is being replaced by
// notetaker_settings — is changed there and nowhere else; the typed values
// callers fill are the neutral model, not the wire.
//
// # Layers
//
// A Client holds one region's base URL and one API key. Each exported method
// builds a path (every caller-supplied segment url.PathEscape'd), hands it to
// the transport in client.go, and decodes the data member of the
// {request_id, data} envelope into a typed value. The transport owns
// authentication, body limits, retries and logging; the methods own paths,
// query parameters and shapes.
//
// # Retries
//
// A request is tried at most MaxAttempts times. Between tries the client
// waits BackoffBase·2^(try-1), capped at BackoffMax, with equal jitter: half
// of that delay is fixed and half is random, so a retry never comes sooner
// than half the nominal delay yet many clients spread out. What is retried:
//
//   - 429 and 503, for every method: the request was not processed. When the
//     answer carries Retry-After (seconds or an HTTP date) the client waits at
//     least that long, even beyond BackoffMax; a Retry-After over five minutes
//     is not waited out and the call fails with the *Error at once.
//   - 500, 502 and 504, and transport failures (refused or dropped
//     connections, the HTTP client's timeout, a body cut short), only for GET,
//     PUT and DELETE, and for a POST carrying an Idempotency-Key (SendMessage:
//     Nylas replays its cached answer for an hour). Any other POST may have
//     been processed, so repeating it could act twice: CreateNotetaker,
//     CreateConfiguration and CreateWebhook are retried only on 429 and 503,
//     which say the request was not processed; after any other failure the
//     caller must look for what it may have created before creating again.
//
// Every other answer, 4xx included, ends the call at once. A wait that would
// outlast ctx's deadline is not started: the call fails with the last error.
// Cancelling ctx ends a wait at once and the call returns ctx.Err(), wrapped.
//
// # Errors
//
// A non-2xx answer is an *Error carrying the status and, when the body has
// the {request_id, error:{type, message}} shape, its type, message and
// request ID. errors.Is(err, ErrNotFound) reports a 404. Methods wrap errors
// with what they were doing ("get notetaker \"nt1\": nylas: 404 …"), so use
// errors.Is and errors.As rather than comparing strings. Arguments that can
// never form a valid path (an empty or "."/".." ID, a missing calendar ID)
// fail before any request is sent.
//
// # What is never logged
//
// The API key is sent only in the Authorization header of requests to
// BaseURL. It never appears in an error or a log line: server-supplied error
// text is scrubbed of it, and retry log lines carry only the method, the path
// without its query, the status, the attempt number, the wait and the error.
// Bodies are never logged, so neither is a webhook secret; Webhook also
// implements slog.LogValuer to leave its secret out when logged itself.
//
// # Limits
//
// A 2xx body over 8 MiB is an error (not retried). At most 64 KiB of an error
// body is read, and a further 64 KiB is drained so the connection can be
// reused.
package nylas
