package nylastest

// Sending e-mail: /v3/grants/{grant}/messages/send, with Idempotency-Key.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "body is not JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	grant := s.grant(r.PathValue("grant"))
	if grant == "" {
		notFound(w, "Grant")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 256 {
		writeError(w, http.StatusBadRequest, "api.invalid_idempotency_key", "Idempotency-Key is too long")
		return
	}
	ikey := grant + "\x00" + key
	if prev, ok := s.idempotent[ikey]; ok && key != "" {
		if prev.body != string(raw) {
			writeError(w, http.StatusConflict, "api.invalid_idempotent_request", "Idempotency-Key reused with a different request")
			return
		}
		w.Header().Set("Idempotent-Response", "true")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(prev.status)
		w.Write(prev.reply)
		return
	}
	if len(asList(body["to"])) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "to is required")
		return
	}
	reply := sampleEnvelope(messageSample)
	s.seq++
	id := fmt.Sprintf("msg-%04d", s.seq)
	data := asMap(reply["data"])
	data["id"], data["grant_id"], data["subject"], data["to"] = id, grant, body["subject"], body["to"]
	data["date"] = s.now().Unix()
	reply["grant_id"], reply["request_id"] = grant, s.requestID()
	b, _ := json.Marshal(reply)
	if key != "" {
		s.idempotent[ikey] = idemAnswer{body: string(raw), status: http.StatusOK, reply: b}
	}
	s.messages = append(s.messages, Message{Grant: grant, IdempotencyKey: key, ID: id, Body: body})
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
