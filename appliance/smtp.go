package appliance

import (
	"cmp"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// sendMail is Alerter's default SendMail: smtp.SendMail's exchange, on a
// connection with a deadline of MailTimeout for the whole of it, so that a
// server that accepts and then stalls, at any step, costs one failed
// attempt rather than a worker for ever (net/smtp sets no deadline).
func (al *Alerter) sendMail(addr string, a smtp.Auth, from string, to []string, msg []byte) error {
	for _, line := range append([]string{from}, to...) {
		if strings.ContainsAny(line, "\r\n") {
			return errors.New("smtp: a line break in an address")
		}
	}
	timeout := cmp.Or(al.MailTimeout, 30*time.Second)
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if a != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("smtp: server does not offer AUTH")
		}
		if err := c.Auth(a); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// redactSMTP keeps the SMTP password out of an error, in the clear and in
// its AUTH PLAIN form: a server may echo what it was sent, and the error
// ends up in the task record and the logs.
func redactSMTP(err error, user, password string) error {
	if password == "" {
		return err
	}
	msg := err.Error()
	for _, secret := range []string{
		base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password)),
		base64.StdEncoding.EncodeToString([]byte(user + "\x00" + user + "\x00" + password)),
		password,
	} {
		msg = strings.ReplaceAll(msg, secret, "[redacted]")
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
