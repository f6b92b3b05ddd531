package appliance

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/envelope"
	"github.com/notekeeper/notekeeper/store"
)

// ingestTimeout bounds how long a notification may wait for its commit.
// Nylas waits 10 s for an answer; a 503 before that makes it retry, which is
// better than a timeout it may count as a failure.
const ingestTimeout = 8 * time.Second

// Receiver turns webhook requests into stored notifications. Its contract:
// verify the signature, bound the body, parse the envelope, store it durably,
// and only then acknowledge with 200, so an acknowledged notification is
// never lost.
type Receiver struct {
	DB           *store.DB
	Verifier     *Verifier
	MaxBodyBytes int64
	Logger       *slog.Logger
	Metrics      *Metrics // optional
}

// Receipt is what Receive did with an accepted notification.
type Receipt struct {
	ID        string `json:"id"`
	Seq       uint64 `json:"seq"`
	Duplicate bool   `json:"duplicate"`
}

// Receive reads, verifies and durably stores one webhook request, in this
// order, and returns:
//   - apperr.ETOOLARGE when the body (or its decompressed form) exceeds
//     MaxBodyBytes — checked while reading, so it wins over a bad signature;
//   - apperr.EUNAUTHORIZED when X-Nylas-Signature is missing or matches no secret,
//     with nothing stored;
//   - apperr.EINVALID for a signed body that is not a notification envelope, after
//     keeping it in quarantine;
//   - apperr.EUNAVAILABLE when the store cannot commit, so Nylas retries;
//   - a Receipt once the notification, its dedupe key and its tasks are
//     committed (or it was already stored).
func (rc *Receiver) Receive(r *http.Request) (receipt *Receipt, err error) {
	start, typ := time.Now(), ""
	defer func() { rc.Metrics.Received(typ, receiveOutcome(receipt, err), time.Since(start)) }()
	raw, err := readBody(r, rc.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	sig := strings.TrimSpace(r.Header.Get("X-Nylas-Signature"))
	if sig == "" {
		return nil, apperr.Errorf(apperr.EUNAUTHORIZED, "missing X-Nylas-Signature")
	}
	if !rc.Verifier.Verify(raw, sig) {
		return nil, apperr.Errorf(apperr.EUNAUTHORIZED, "signature does not match")
	}
	encoding := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	body, err := decodeBody(raw, encoding, rc.MaxBodyBytes)
	if err != nil {
		if apperr.Code(err) == apperr.EINVALID {
			return nil, rc.quarantine(raw, encoding, sig, err)
		}
		return nil, err
	}
	env, err := envelope.Parse(body)
	if err != nil {
		return nil, rc.quarantine(body, encoding, sig, apperr.Wrap(apperr.EINVALID, err.Error(), err))
	}
	typ = env.Type
	tasks, problem := envelope.Route(env)
	if problem != "" {
		rc.Logger.Warn("notification stored without processing",
			slog.String("id", env.ID), slog.String("type", env.Type), slog.String("problem", problem))
	}
	ctx, cancel := context.WithTimeout(r.Context(), ingestTimeout)
	defer cancel()
	res, err := rc.DB.Ingest(ctx, &store.Ingest{
		Notification: store.Notification{
			ID: env.ID, Type: env.Type, Encoding: encoding, Signature: sig, Body: body, Error: problem,
		},
		Tasks:  tasks,
		Alerts: unsafeIDAlerts(env, problem),
	})
	if err != nil {
		return nil, apperr.Wrap(apperr.EUNAVAILABLE, "store unavailable", err)
	}
	return &Receipt{ID: env.ID, Seq: res.Seq, Duplicate: res.Duplicate}, nil
}

// receiveOutcome names what Receive did, for metrics.
func receiveOutcome(receipt *Receipt, err error) string {
	switch {
	case err == nil && receipt.Duplicate:
		return OutcomeDuplicate
	case err == nil:
		return OutcomeStored
	}
	switch apperr.Code(err) {
	case apperr.EUNAUTHORIZED:
		return OutcomeUnsigned
	case apperr.ETOOLARGE:
		return OutcomeTooLarge
	case apperr.EUNAVAILABLE:
		return OutcomeUnavailable
	}
	return OutcomeInvalid
}

// quarantine keeps a signed but unusable body and returns the 400 error to
// answer with; if it cannot be kept, 503 so that Nylas sends it again.
func (rc *Receiver) quarantine(body []byte, encoding, sig string, cause error) error {
	msg := apperr.Message(cause)
	if _, err := rc.DB.Quarantine(&store.Quarantined{
		Reason: msg, Encoding: encoding, Signature: sig, Body: body,
	}); err != nil {
		return apperr.Wrap(apperr.EUNAVAILABLE, "store unavailable", err)
	}
	rc.Logger.Warn("signed request quarantined", slog.String("reason", msg))
	return cause
}

// readBody reads the whole body, failing with apperr.ETOOLARGE past max bytes.
func readBody(r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, apperr.Errorf(apperr.ETOOLARGE, "body is over %d bytes", max)
	}
	size := 16 << 10
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1 // +1: ReadAll stops without growing at EOF
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, apperr.Wrap(apperr.EINVALID, "read body", err)
	}
	if int64(buf.Len()) > max {
		return nil, apperr.Errorf(apperr.ETOOLARGE, "body is over %d bytes", max)
	}
	return buf.Bytes(), nil
}

// decodeBody undoes Content-Encoding. gzip is inflated up to max bytes
// (apperr.ETOOLARGE beyond: a small bomb cannot fill memory); a corrupt stream or an
// unsupported encoding is apperr.EINVALID.
func decodeBody(raw []byte, encoding string, max int64) ([]byte, error) {
	switch encoding {
	case "", "identity":
		return raw, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, apperr.Wrap(apperr.EINVALID, "gzip body: "+err.Error(), err)
		}
		var out bytes.Buffer
		_, err = out.ReadFrom(io.LimitReader(zr, max+1))
		if err != nil {
			return nil, apperr.Wrap(apperr.EINVALID, "gzip body: "+err.Error(), err)
		}
		if int64(out.Len()) > max {
			return nil, apperr.Errorf(apperr.ETOOLARGE, "decompressed body is over %d bytes", max)
		}
		return out.Bytes(), nil
	}
	return nil, apperr.Errorf(apperr.EINVALID, "unsupported Content-Encoding %q", encoding)
}

// challenge returns the value Nylas asked to have echoed.
func challenge(r *http.Request) (string, error) {
	c := r.URL.Query().Get("challenge")
	if c == "" {
		return "", apperr.Errorf(apperr.EINVALID, "missing challenge parameter")
	}
	return c, nil
}
