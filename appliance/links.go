package appliance

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
	"github.com/notekeeper/notekeeper/appliance/archive"
)

// LinkKeyFile is the name, in the data dir, of the key that signs /files
// links. It is made once (32 random bytes, hex) and kept: links handed to a
// CRM must outlive restarts.
const LinkKeyFile = "files.key"

// LoadLinkKey reads the link key from dataDir, creating it (0600) on first
// use.
func LoadLinkKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, LinkKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		rand.Read(key)
		if err := archive.WriteFileAtomic(dataDir, LinkKeyFile, []byte(hex.EncodeToString(key)+"\n")); err != nil {
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

// Links signs and checks the /files/{notetaker_id}/{name}?exp=&sig= links
// handed to CRMs and ATSs (SPEC §4). sig is the hex HMAC-SHA256, under Key,
// of "{path}\n{exp}", where path is the unescaped "/files/{id}/{name}" and
// exp the expiry in Unix seconds.
type Links struct {
	Key     []byte
	BaseURL string        // [server] public_url
	TTL     time.Duration // [archive] link_ttl
	Now     func() time.Time
}

// URL returns a signed link to an archived file, valid for TTL.
func (l *Links) URL(notetakerID, name string) string {
	path := "/files/" + notetakerID + "/" + name
	exp := strconv.FormatInt(l.Now().Add(l.TTL).Unix(), 10)
	q := url.Values{"exp": {exp}, "sig": {l.sign(path, exp)}}
	return strings.TrimRight(l.BaseURL, "/") + "/files/" + url.PathEscape(notetakerID) + "/" + url.PathEscape(name) + "?" + q.Encode()
}

func (l *Links) sign(path, exp string) string {
	mac := hmac.New(sha256.New, l.Key)
	mac.Write([]byte(path + "\n" + exp))
	return hex.EncodeToString(mac.Sum(nil))
}

// Check verifies a link's signature (in constant time) and expiry; any
// failure is apperr.EFORBIDDEN, with no detail for the client.
func (l *Links) Check(notetakerID, name, exp, sig string) error {
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
