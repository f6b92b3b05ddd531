package appliance_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/store"
)

const (
	smtpUser     = "alerts@example.com"
	smtpPassword = "smtp-pa55word-do-not-leak"
)

// hostileSMTP is an SMTP stand-in on 127.0.0.1 that misbehaves in one way.
// Its 535 answer echoes the AUTH line it got, as a careless server might,
// so that a leak of the credentials into errors would show.
type hostileSMTP struct {
	ln   net.Listener
	mode string

	mu    sync.Mutex
	conns int
	msgs  []string
}

func newHostileSMTP(t *testing.T, mode string) *hostileSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &hostileSMTP{ln: ln, mode: mode}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	if mode == "closed port" {
		ln.Close()
		return s
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
			wg.Go(func() { s.serve(c) })
		}
	}()
	return s
}

func (s *hostileSMTP) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { io.WriteString(c, line+"\r\n") }
	switch s.mode {
	case "stalls before the greeting":
		io.Copy(io.Discard, r) // until the client gives up
		return
	case "refuses at the greeting":
		say("554 5.3.2 no service for you")
		return
	}
	say("220 test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			say("250-test")
			say("250 AUTH PLAIN")
		case strings.HasPrefix(cmd, "AUTH"):
			if s.mode == "rejects the password" {
				say("535 5.7.8 bad credentials: " + strings.TrimSpace(line))
				continue
			}
			say("235 ok")
		case strings.HasPrefix(cmd, "MAIL"):
			if s.mode == "drops after MAIL" {
				return
			}
			if s.mode == "stalls after MAIL" {
				io.Copy(io.Discard, r)
				return
			}
			say("250 ok")
		case strings.HasPrefix(cmd, "DATA"):
			say("354 go ahead")
			var msg strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if s.mode == "drops mid-DATA" && msg.Len() > 0 {
					return
				}
				if l == ".\r\n" {
					break
				}
				msg.WriteString(l)
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, msg.String())
			s.mu.Unlock()
			say("250 queued")
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *hostileSMTP) counts() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns, len(s.msgs)
}

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
			srv := newHostileSMTP(t, tc.mode)
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
