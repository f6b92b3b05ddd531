package admin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
)

// csrfField is the hidden form field that carries the CSRF token.
const csrfField = "csrf"

// maxFormBytes bounds a POSTed form: the UI's forms hold a token and a key.
const maxFormBytes = 16 << 10

type userKey struct{}

func withUser(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, userKey{}, user)
}

func userOf(ctx context.Context) string { s, _ := ctx.Value(userKey{}).(string); return s }

// csrfToken is the token forms of user carry: hex HMAC-SHA256 of the user
// name under the per-process key. It needs no server-side state; a restart
// invalidates open forms (the POST says to reload).
func (h *Handler) csrfToken(user string) string {
	mac := hmac.New(sha256.New, h.csrfKey)
	mac.Write([]byte("csrf\x00" + user))
	return hex.EncodeToString(mac.Sum(nil))
}

// checkCSRF guards every state-changing request twice: Go's
// CrossOriginProtection refuses cross-origin requests by Sec-Fetch-Site or,
// failing that, Origin against Host; then the form's token must be the
// signed user's (compared in constant time). Either failure is 403.
func (h *Handler) checkCSRF(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		textError(w, http.StatusForbidden, "cross-origin request refused")
	}))
	token := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			textError(w, http.StatusBadRequest, "bad form")
			return
		}
		want := h.csrfToken(userOf(r.Context()))
		if !hmac.Equal([]byte(r.PostForm.Get(csrfField)), []byte(want)) {
			textError(w, http.StatusForbidden, "missing or stale form token: reload the page and try again")
			return
		}
		next.ServeHTTP(w, r)
	})
	return cop.Handler(token)
}
