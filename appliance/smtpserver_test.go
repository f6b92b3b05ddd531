package appliance_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is an SMTP stand-in on 127.0.0.1 that keeps each message's
// data. With mode "" it behaves; any other mode (see serve) misbehaves in
// one way. Its 535 answer echoes the AUTH line it got, as a careless server
// might, so that a leak of the credentials into errors would show.
type smtpServer struct {
	ln   net.Listener
	mode string

	mu    sync.Mutex
	conns int
	msgs  []string
}

func newSMTPServer(t *testing.T, mode string) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, mode: mode}
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

func (s *smtpServer) serve(c net.Conn) {
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
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test")
			say("250-8BITMIME")
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
		default: // RCPT, RSET, NOOP
			say("250 ok")
		}
	}
}

func (s *smtpServer) counts() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns, len(s.msgs)
}

// messages returns the data of each message received.
func (s *smtpServer) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}
