package nylas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// maxIdempotencyKey is the longest Idempotency-Key Nylas accepts.
const maxIdempotencyKey = 256

// Address is one sender or recipient of a message.
type Address struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// Message is an e-mail to send through a grant. Body is HTML unless
// Plaintext is set. The sender is the grant's own address.
type Message struct {
	To        []Address
	Cc        []Address
	Subject   string
	Body      string
	Plaintext bool
}

// SentMessage is what Nylas answers for a sent message (the same answer
// again when it replays a cached Idempotency-Key).
type SentMessage struct {
	ID       string `json:"id"`
	ThreadID string `json:"thread_id"`
}

// wireMessage is the Nylas OpenAPI's message_send body (JSON; no attachments).
type wireMessage struct {
	To          []Address `json:"to"`
	Cc          []Address `json:"cc,omitempty"`
	Subject     string    `json:"subject"`
	Body        string    `json:"body"`
	IsPlaintext bool      `json:"is_plaintext,omitempty"`
}

// encodeMessage is the body of SendMessage.
func encodeMessage(m Message) wireMessage {
	return wireMessage{To: m.To, Cc: m.Cc, Subject: m.Subject, Body: m.Body, IsPlaintext: m.Plaintext}
}

// SendMessage sends m through grantID (POST /v3/grants/{grant}/messages/send)
// with the Idempotency-Key header key. Nylas caches the answer to a key for
// one hour per grant and replays it, so within that hour the same key never
// sends twice; that is why this POST, unlike the other creates, is retried
// after a 5xx or a transport failure too. A key reused with a different
// body is refused (409 api.invalid_idempotent_request); past the hour Nylas
// forgets the key, so a caller that must send once keeps its own record.
//
// Errors: an *Error for a non-2xx answer (403 insufficient_scopes when the
// grant may not send, 409 for a key in use by a concurrent request); an
// error without a request for an empty key, one over 256 characters, or no
// recipient; ctx's error when it ends first.
func (c *Client) SendMessage(ctx context.Context, grantID, key string, m Message) (*SentMessage, error) {
	g, err := segment("grant id", grantID)
	switch {
	case err != nil:
	case key == "" || len(key) > maxIdempotencyKey:
		err = fmt.Errorf("idempotency key must be 1 to %d characters", maxIdempotencyKey)
	case len(m.To) == 0:
		err = errors.New("no recipient")
	}
	if err != nil {
		return nil, fmt.Errorf("send message: %w", err)
	}
	raw, err := c.sendWith(ctx, http.MethodPost, "/v3/grants/"+g+"/messages/send", nil, encodeMessage(m), key)
	if err != nil {
		return nil, fmt.Errorf("send message through grant %q: %w", grantID, err)
	}
	var out struct {
		Data SentMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("send message through grant %q: %w", grantID, err)
	}
	return &out.Data, nil
}
