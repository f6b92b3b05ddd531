package demo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"time"
)

// urlSigner signs storage URLs the way pre-signed cloud storage links work:
// the query carries the expiry (Unix seconds) and an HMAC-SHA256 of the path
// and the expiry, keyed with a secret only the storage knows.
type urlSigner struct {
	key []byte
}

// sign returns path?expires=E&signature=S for base.
func (s urlSigner) sign(base, path string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	q := url.Values{"expires": {exp}, "signature": {s.mac(path, exp)}}
	return base + path + "?" + q.Encode()
}

// mac is the hex HMAC-SHA256 of path and exp.
func (s urlSigner) mac(path, exp string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(path + "\n" + exp))
	return hex.EncodeToString(m.Sum(nil))
}

// valid reports whether q holds a signature of path that has not expired
// at now. The signature is compared in constant time.
func (s urlSigner) valid(path string, q url.Values, now time.Time) bool {
	exp, sig := q.Get("expires"), q.Get("signature")
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() > n {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.mac(path, exp)))
}
