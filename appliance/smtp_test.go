package appliance_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/store"
)

const (
	smtpUser     = "alerts@example.com"
	smtpPassword = "smtp-pa55word-do-not-leak"
)

// TestAlerts_HostileSMTP: an e-mail alert against an SMTP server that
// refuses, stalls or drops is a failed attempt in bounded time, retried as
// a task, and no error keeps the SMTP password (nor its AUTH PLAIN form).
func TestAlerts_HostileSMTP(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, tc := range []struct {
		mode      string
		delivered bool
	}{
		{"closed port", false},
		{"refuses at the greeting", false},
		{"stalls before the greeting", false},
		{"rejects the password", false},
		{"drops after MAIL", false},
		{"stalls after MAIL", false},
		{"drops mid-DATA", false},
		{"behaves", true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			srv := newSMTPServer(t, tc.mode)
			app := openApp(t, false)
			app.DB.AlertSinks = 1
			pool := appliance.NewPool(app.DB)
			pool.BackoffBase, pool.BackoffMax, pool.MaxAttempts = 10*time.Millisecond, 20*time.Millisecond, 3
			al := &appliance.Alerter{DB: app.DB, Logger: app.Server.Logger, MailTimeout: timeout, Sinks: []appliance.AlertSink{{
				Type: "email", SMTPAddr: srv.ln.Addr().String(), Username: smtpUser, Password: smtpPassword,
				From: smtpUser, To: []string{"oncall@example.com"}}}}
			al.Register(pool)
			pool.DeadLetterAlert = al.DeadLetter
			if err := pool.Open(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pool.Close(context.Background()) })

			start := time.Now()
			if _, err := app.DB.RaiseAlert(store.Alert{Kind: "disk.low", Subject: "/var/lib/notekeeper", Message: "2 GiB free"}); err != nil {
				t.Fatal(err)
			}
			var task *store.Task
			waitFor(t, "the alert task to finish or be dead-lettered", func() bool {
				var err error
				task, err = app.DB.Task(store.AlertTask(1, 0).Key())
				return err != nil || task.Dead
			})
			took := time.Since(start)
			conns, msgs := srv.counts()
			if tc.delivered {
				if task != nil || msgs != 1 {
					t.Fatalf("task %+v, %d messages: want delivered once", task, msgs)
				}
				return
			}
			t.Logf("%s: dead-lettered after %d attempts in %v (%d connections): %s", tc.mode, task.Attempts, took, conns, task.LastError)
			if task.Attempts != 3 {
				t.Errorf("%d attempts, want 3 (retried as a task)", task.Attempts)
			}
			if limit := 3*timeout + 2*time.Second; took > limit {
				t.Errorf("3 attempts took %v, want at most %v", took, limit)
			}
			plain := base64.StdEncoding.EncodeToString([]byte("\x00" + smtpUser + "\x00" + smtpPassword))
			for _, secret := range []string{smtpPassword, plain} {
				if strings.Contains(task.LastError, secret) {
					t.Errorf("task error keeps a secret: %s", task.LastError)
				}
			}
			if msgs != 0 {
				t.Errorf("%d messages delivered", msgs)
			}
		})
	}
}
