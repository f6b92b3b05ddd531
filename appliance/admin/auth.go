package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// realm is the Basic auth realm the browser shows.
const realm = `Basic realm="notekeeper admin", charset="UTF-8"`

// maxCached bounds the credential cache: past it, expired entries are
// dropped, and if that is not enough the whole cache.
const maxCached = 256

// authenticator checks HTTP Basic credentials against bcrypt hashes.
//
// bcrypt is slow on purpose (about 100 ms at cost 10, 250 ms at 12), so a
// verified pair is remembered for ttl under an HMAC of the user and password
// with a per-process key: the cache never holds a password nor an unsalted
// hash of one, and a changed password in the config takes a restart anyway.
// An unknown user name is compared against the costliest configured hash
// (and refused), so the answer's timing does not tell which names exist.
type authenticator struct {
	users map[string][]byte
	dummy []byte
	key   []byte
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	cache map[[sha256.Size]byte]time.Time // HMAC(user, password) → expiry
}

func newAuthenticator(users map[string]string, ttl time.Duration, now func() time.Time) (*authenticator, error) {
	a := &authenticator{users: map[string][]byte{}, key: make([]byte, 32), ttl: ttl, now: now,
		cache: map[[sha256.Size]byte]time.Time{}}
	rand.Read(a.key)
	cost := -1
	for name, hash := range users {
		c, err := bcrypt.Cost([]byte(hash))
		if err != nil {
			return nil, fmt.Errorf("admin user %q: not a bcrypt hash: %w", name, err)
		}
		a.users[name] = []byte(hash)
		if c > cost {
			// An unknown name is checked against the costliest real hash
			// (and refused whatever the result): same work, no hash to make
			// at start-up.
			cost, a.dummy = c, []byte(hash)
		}
	}
	return a, nil
}

// enabled reports whether any user is configured.
func (a *authenticator) enabled() bool { return len(a.users) > 0 }

// verify reports whether user and password match a configured user. It
// always costs one bcrypt comparison unless the pair was verified within ttl.
func (a *authenticator) verify(user, password string) bool {
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(user))
	mac.Write([]byte{0})
	mac.Write([]byte(password))
	var k [sha256.Size]byte
	copy(k[:], mac.Sum(nil))
	now := a.now()
	a.mu.Lock()
	exp, ok := a.cache[k]
	a.mu.Unlock()
	if ok && now.Before(exp) {
		return true
	}
	hash, known := a.users[user]
	if !known {
		hash = a.dummy
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !known {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) >= maxCached {
		for ck, ce := range a.cache {
			if !now.Before(ce) {
				delete(a.cache, ck)
			}
		}
		if len(a.cache) >= maxCached {
			clear(a.cache)
		}
	}
	a.cache[k] = now.Add(a.ttl)
	return true
}

// requireUsers answers 404 to everything when no admin user is configured:
// the UI does not exist until someone is allowed in.
func (h *Handler) requireUsers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.auth.enabled() {
			textError(w, http.StatusNotFound, "the admin UI is off: no [admin] users are configured")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate requires valid HTTP Basic credentials; the user name is put
// in the request context for the CSRF token. Refusals are logged with the
// name tried, never the password.
func (h *Handler) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, password, ok := r.BasicAuth()
		if !ok || !h.auth.verify(user, password) {
			if ok {
				h.cfg.Logger.Warn("admin login refused", slog.String("user", user), slog.String("remote", r.RemoteAddr))
			}
			w.Header().Set("WWW-Authenticate", realm)
			textError(w, http.StatusUnauthorized, "unauthorized")
			return
		}
		next.ServeHTTP(w, r.WithContext(withUser(r.Context(), user)))
	})
}
