package appliance

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"sync/atomic"
)

// Verifier checks X-Nylas-Signature headers: the lowercase hex HMAC-SHA256 of
// the raw request body keyed with a webhook secret's UTF-8 bytes. Several
// secrets can be live at once (during a rotation); a body signed with any of
// them verifies. Safe for concurrent use; SetSecrets swaps the set atomically
// so a reload never drops a request.
type Verifier struct {
	secrets atomic.Pointer[[][]byte]
}

// NewVerifier returns a Verifier accepting each of secrets. Empty secrets are
// ignored: an empty key would make signatures forgeable by anyone.
func NewVerifier(secrets ...string) *Verifier {
	v := &Verifier{}
	v.SetSecrets(secrets...)
	return v
}

// SetSecrets replaces the accepted secrets.
func (v *Verifier) SetSecrets(secrets ...string) {
	keys := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		if s != "" {
			keys = append(keys, []byte(s))
		}
	}
	v.secrets.Store(&keys)
}

// Verify reports whether signature is a valid signature of body under one of
// the secrets. Every secret is tried and each MAC is compared in constant
// time, so timing reveals neither which secret matched nor how much of the
// signature was right. Upper-case hex is accepted.
func (v *Verifier) Verify(body []byte, signature string) bool {
	if len(signature) != hex.EncodedLen(sha256.Size) {
		return false
	}
	var want [sha256.Size]byte
	if _, err := hex.Decode(want[:], []byte(signature)); err != nil {
		return false
	}
	match := 0
	for _, key := range *v.secrets.Load() {
		mac := hmac.New(sha256.New, key)
		mac.Write(body)
		match |= subtle.ConstantTimeCompare(mac.Sum(nil), want[:])
	}
	return match == 1
}

// Sign returns the signature Nylas would send for body under secret. Tests,
// the demo and the load generator use it.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
