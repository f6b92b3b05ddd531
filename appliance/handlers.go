package appliance

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// handleChallenge answers Nylas' endpoint verification: the challenge value,
// verbatim, as text/plain. No signature is needed (Nylas does not sign it).
func (s *Server) handleChallenge(w http.ResponseWriter, r *http.Request) {
	c, err := challenge(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeText(w, http.StatusOK, c)
}

// handleWebhook stores one notification; see Receiver.Receive.
func (s *Server) handleWebhook(w http.ResponseWriter, r *http.Request) {
	receipt, err := s.Receiver.Receive(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, receipt)
}

// handleHealthz answers 200 while the process runs.
func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

// readyTimeout bounds all readiness checks together.
const readyTimeout = 5 * time.Second

// handleReadyz runs every Check: 200 "ok" when all pass, else 503 with one
// "name: reason" line per failing check.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	var failed []string
	for _, c := range s.Checks {
		if err := c.Fn(ctx); err != nil {
			failed = append(failed, c.Name+": "+err.Error())
		}
	}
	if len(failed) > 0 {
		writeText(w, http.StatusServiceUnavailable, strings.Join(failed, "\n")+"\n")
		return
	}
	writeText(w, http.StatusOK, "ok\n")
}

// writeText writes a text/plain response with an exact Content-Length.
func writeText(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write([]byte(body))
}
