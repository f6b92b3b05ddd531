package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
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
// Comparisons are admitted by a throttle (throttle.go), so unauthenticated
// requests cannot turn bcrypt into a denial of service.
type authenticator struct {
	users map[string][]byte
	dummy []byte
	key   []byte
	ttl   time.Duration
	now   func() time.Time

	throttle *throttle

	mu    sync.Mutex
	cache map[[sha256.Size]byte]time.Time // HMAC(user, password) → expiry
}

func newAuthenticator(users map[string]string, ttl time.Duration, now func() time.Time) (*authenticator, error) {
	a := &authenticator{users: map[string][]byte{}, key: make([]byte, 32), ttl: ttl, now: now,
		cache: map[[sha256.Size]byte]time.Time{}, throttle: newThrottle(now)}
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
// costs one bcrypt comparison unless the pair was verified within ttl; the
// comparison is admitted by the throttle for client, which may refuse it
// (a *throttleError) or find that ctx has ended (ctx's error), and then no
// comparison is made.
func (a *authenticator) verify(ctx context.Context, client netip.Addr, user, password string) (bool, error) {
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
		return true, nil
	}
	release, err := a.throttle.acquire(ctx, client)
	if err != nil {
		return false, err
	}
	hash, known := a.users[user]
	if !known {
		hash = a.dummy
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil && known
	release()
	a.throttle.result(client, match)
	if !match {
		return false, nil
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
	return true, nil
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
		var verified bool
		var err error
		if ok {
			verified, err = h.auth.verify(r.Context(), clientAddr(r.RemoteAddr), user, password)
		}
		var te *throttleError
		switch {
		case errors.As(err, &te):
			h.cfg.Logger.Warn("admin login throttled", slog.String("user", user), slog.String("remote", r.RemoteAddr), slog.Any("error", err))
			w.Header().Set("Retry-After", strconv.Itoa(int(max(1, te.after.Round(time.Second)/time.Second))))
			status := http.StatusServiceUnavailable
			if errors.Is(err, errBackoff) {
				status = http.StatusTooManyRequests
			}
			textError(w, status, err.Error())
			return
		case err != nil:
			return // the client has gone
		}
		if !verified {
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
