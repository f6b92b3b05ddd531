// Package tls obtains and renews notekeeper's certificate for [server] domain
// with certmagic (Manager: its own Cache, Config and ACME issuer, storage in
// the data dir) and serves the plain-HTTP side of the domain (HTTPServer:
// ACME HTTP-01 answers, /healthz, a 308 redirect to HTTPS). It imports no
// other notekeeper package.
//
// The name shadows crypto/tls; import it as apptls where both are needed.
package tls

import (
	"net"
	"net/http"
	"strconv"
)

// RedirectHandler answers every request with 308 Permanent Redirect to the
// same path and query on https://{domain}, with ":{httpsPort}" unless it is
// 443. 308 keeps the method and body, so a POST that reached the
// plain port is repeated over HTTPS rather than turned into a GET. The host
// the client asked for is ignored: only the configured domain is ever a
// target, so the handler cannot be used as an open redirector.
func RedirectHandler(domain string, httpsPort int) http.Handler {
	host := domain
	if httpsPort != 443 {
		host = net.JoinHostPort(domain, strconv.Itoa(httpsPort))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := "https://" + host + r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusPermanentRedirect)
	})
}
