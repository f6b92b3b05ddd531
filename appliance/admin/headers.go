package admin

import (
	"fmt"
	"net/http"
)

// contentSecurityPolicy allows the page's own stylesheet, images and
// script file (player.js; never inline script or style), and media and
// images over https too: a recording kept in the [archive.s3] bucket
// plays from a redirect to the bucket. No plugins, no framing, forms only
// to this origin.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https:; " +
	"media-src 'self' https:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the admin UI's security headers on every answer,
// refusals included.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// textError answers with a short plain-text message.
func textError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(msg)+1))
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}
