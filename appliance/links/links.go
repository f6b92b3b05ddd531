// Package links signs and checks the /files/{notetaker_id}/{name}?exp=&sig=
// links notekeeper hands to CRMs and ATSs instead of Nylas's short-lived media
// URLs, and keeps the key that signs them in the data dir.
package links

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// LoadKey reads the link key (datadir.LinkKeyFile) from dataDir, creating
// it (32 random bytes, hex, 0600) on first use. It is kept: links handed to a
// CRM must outlive restarts.
func LoadKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, datadir.LinkKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		rand.Read(key)
		if err := datadir.WriteFileAtomic(dataDir, datadir.LinkKeyFile, []byte(hex.EncodeToString(key)+"\n")); err != nil {
			return nil, fmt.Errorf("create link key: %w", err)
		}
		return key, nil
	} else if err != nil {
		return nil, fmt.Errorf("read link key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("read link key %s: not a hex key of at least 16 bytes", path)
	}
	return key, nil
}

// Signer signs and checks the /files/{notetaker_id}/{name}?exp=&sig= links
// handed to CRMs and ATSs; the daemon serves them at /files without other
// authentication. sig is the hex HMAC-SHA256, under Key,
// of "{path}\n{exp}", where path is the unescaped "/files/{id}/{name}" and
// exp the expiry in Unix seconds.
type Signer struct {
	Key     []byte
	BaseURL string        // [server] public_url
	TTL     time.Duration // [archive] link_ttl
	Now     func() time.Time
}

// URL returns a signed link to an archived file, valid for TTL.
func (l *Signer) URL(notetakerID, name string) string {
	path := "/files/" + notetakerID + "/" + name
	exp := strconv.FormatInt(l.Now().Add(l.TTL).Unix(), 10)
	q := url.Values{"exp": {exp}, "sig": {l.sign(path, exp)}}
	return strings.TrimRight(l.BaseURL, "/") + "/files/" + url.PathEscape(notetakerID) + "/" + url.PathEscape(name) + "?" + q.Encode()
}

func (l *Signer) sign(path, exp string) string {
	mac := hmac.New(sha256.New, l.Key)
	mac.Write([]byte(path + "\n" + exp))
	return hex.EncodeToString(mac.Sum(nil))
}

// Check verifies a link's signature (in constant time) and expiry; any
// failure is apperr.EFORBIDDEN, with no detail for the client.
func (l *Signer) Check(notetakerID, name, exp, sig string) error {
	want := l.sign("/files/"+notetakerID+"/"+name, exp)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(sig))) {
		return apperr.Errorf(apperr.EFORBIDDEN, "invalid or expired link")
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || l.Now().Unix() > n {
		return apperr.Errorf(apperr.EFORBIDDEN, "invalid or expired link")
	}
	return nil
}
