package appliance

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/smtp"
	"slices"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/outbound"
	"github.com/notekeeper/notekeeper/store"
)

// AlertSink is one place alerts go ([[alert]] in the config).
type AlertSink struct {
	Type  string            // "slack" (incoming webhook), "webhook" (JSON POST) or "email" (SMTP)
	URL   string            // slack and webhook
	Kinds []store.AlertKind // only these kinds; empty = all

	SMTPAddr           string // email: host:port
	Username, Password string // email: SMTP AUTH, optional
	From               string
	To                 []string
}

// Alerter delivers the alerts the store logs (DB.RaiseAlert queues one
// task per sink) to their sinks, and turns dead-lettered tasks into alerts.
// Delivery is a task like any other: durable, retried with back-off, and
// dead-lettered after the last attempt.
type Alerter struct {
	DB     *store.DB
	Sinks  []AlertSink
	HTTP   *http.Client // default: 15 s timeout
	Logger *slog.Logger
	// SendMail sends one message; default sendMail: net/smtp over one
	// connection whose whole exchange is bounded by MailTimeout, upgraded to
	// TLS with STARTTLS whenever the server offers it.
	SendMail func(addr string, a smtp.Auth, from string, to []string, msg []byte) error
	// MailTimeout bounds one SMTP delivery (connect, greeting, TLS, AUTH,
	// DATA); default 30 s. A server that stalls costs one failed attempt.
	MailTimeout time.Duration
}

// prepare fills in the defaults (the pipeline calls it).
func (al *Alerter) prepare() {
	if al.HTTP == nil {
		al.HTTP = &http.Client{Timeout: 15 * time.Second}
	}
	if al.SendMail == nil {
		al.SendMail = al.sendMail
	}
}

// handle delivers one alert to one sink.
func (al *Alerter) handle(ctx context.Context, t *store.Task) error {
	seq, i, err := store.ParseAlertTask(t.Subject)
	if err != nil {
		return apperr.Permanent(err)
	}
	if i >= len(al.Sinks) {
		return apperr.Permanent(fmt.Errorf("alert sink %d is no longer configured", i))
	}
	a, err := al.DB.Alert(seq)
	if err != nil {
		return apperr.Permanent(err)
	}
	sink := al.Sinks[i]
	if len(sink.Kinds) > 0 && !slices.Contains(sink.Kinds, a.Kind) {
		return nil
	}
	switch sink.Type {
	case "slack":
		return al.post(ctx, t, sink.URL, map[string]string{"text": alertText(a)})
	case "webhook":
		return al.post(ctx, t, sink.URL, map[string]string{
			"kind": string(a.Kind), "subject": a.Subject, "message": a.Message, "time": a.Time.UTC().Format(time.RFC3339)})
	case "email":
		return al.mail(sink, a)
	}
	return apperr.Permanent(fmt.Errorf("unknown alert sink type %q", sink.Type))
}

// alertText is the one-line human form of an alert.
func alertText(a *store.Alert) string {
	return fmt.Sprintf("[notekeeper] %s: %s — %s (%s)", a.Kind, a.Subject, a.Message, a.Time.UTC().Format(time.RFC3339))
}

// post sends v as JSON to a sink URL through outbound.Client (no credentials: a
// Slack URL carries its own token, and is never logged).
func (al *Alerter) post(ctx context.Context, t *store.Task, sinkURL string, v any) error {
	return (&outbound.Client{BaseURL: sinkURL, HTTP: al.HTTP, HidePath: true}).Call(ctx, http.MethodPost, "", "notekeeper-"+t.Key(), v, nil)
}

// mail sends the alert by SMTP.
func (al *Alerter) mail(s AlertSink, a *store.Alert) error {
	var auth smtp.Auth
	if s.Username != "" {
		host, _, _ := net.SplitHostPort(s.SMTPAddr)
		auth = smtp.PlainAuth("", s.Username, s.Password, host)
	}
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: [notekeeper] %s: %s\r\nDate: %s\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		s.From, strings.Join(s.To, ", "), a.Kind, headerSafe(a.Subject), a.Time.UTC().Format(time.RFC1123Z), alertText(a))
	if err := al.SendMail(s.SMTPAddr, auth, s.From, s.To, msg.Bytes()); err != nil {
		return fmt.Errorf("mail alert via %s: %w", s.SMTPAddr, redactSMTP(err, s.Username, s.Password))
	}
	return nil
}

// headerSafe keeps untrusted text from adding mail headers.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// DeadLetter is the pool's DeadLetterAlert hook: a dead-lettered archive
// raises archive.failed, an alert that could not be delivered is only logged
// (an alert about alerts would loop), anything else raises delivery.failed.
// The pool raises it in the dead letter's own transaction.
func (al *Alerter) DeadLetter(t *store.Task, err error) *store.Alert {
	kind := store.AlertDeliveryFailed
	switch t.Kind {
	case store.TaskAlert:
		al.Logger.Error("alert could not be delivered", slog.String("task", t.Key()), slog.Any("error", err))
		return nil
	case store.TaskArchive:
		kind = store.AlertArchiveFailed
	}
	msg := fmt.Sprintf("task %s failed for good after %d attempts: %v; retry it once the cause is fixed", t.Key(), t.Attempts, err)
	return &store.Alert{Kind: kind, Subject: t.Subject, Message: msg}
}
