package config

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// hostProblem describes why s is not a bare host name (or, with
// allowIP, an IP address), or returns "".
func hostProblem(s string, allowIP bool) string {
	bare := "a bare host name such as \"example.com\""
	if allowIP {
		bare = "a bare host name such as \"storage.example.com\" or an IP address"
	}
	switch {
	case s == "":
		return "must not be empty"
	case strings.Contains(s, "://"):
		return fmt.Sprintf("must be %s, without a scheme, not %q", bare, s)
	case strings.ContainsAny(s, "/?#"):
		return fmt.Sprintf("must be %s, without a path, not %q", bare, s)
	}
	if ip := net.ParseIP(s); ip != nil {
		if allowIP {
			return ""
		}
		return fmt.Sprintf("must be a DNS name, not an IP address: %q", s)
	}
	if strings.Contains(s, ":") {
		return fmt.Sprintf("must be %s, without a port, not %q", bare, s)
	}
	if !isDNSName(s) {
		return fmt.Sprintf("must be %s, not %q", bare, s)
	}
	return ""
}

// isDNSName reports whether s is a syntactically valid DNS host name:
// dot-separated labels of letters, digits and inner hyphens, with a
// non-numeric last label and no trailing dot.
func isDNSName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, label := range labels {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	_, err := strconv.Atoi(labels[len(labels)-1])
	return err != nil
}

// httpURLProblem describes why s is not an absolute http(s) URL (with
// a query and fragment only when allowQuery), or returns "". The result never
// quotes s, which may be a secret.
func httpURLProblem(s string, allowQuery bool) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return "must be an absolute http:// or https:// URL"
	}
	if !allowQuery && (u.RawQuery != "" || u.ForceQuery || u.Fragment != "") {
		return "must not have a query or fragment"
	}
	return ""
}

// shownURL is s as a problem message may quote it: without the password of
// any user info and without query values, which may be credentials. A value
// that does not parse as a URL is not shown at all.
func shownURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(not a URL)"
	}
	if u.User != nil {
		if _, set := u.User.Password(); set {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = "", ""
		return u.String() + "#…"
	}
	return u.String()
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isEmail reports whether s is a bare e-mail address (no display name).
func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// isEnvName reports whether name is a conventional environment
// variable name: letters, digits and '_', not starting with a digit.
func isEnvName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// isBcrypt reports whether h looks like a bcrypt hash: "$2a$", "$2b$"
// or "$2y$", a two-digit cost from 04 to 31, "$", and 53 characters of
// bcrypt's base64 alphabet.
func isBcrypt(h string) bool {
	if len(h) != 60 || !(strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$")) || h[6] != '$' {
		return false
	}
	cost, err := strconv.Atoi(h[4:6])
	if err != nil || cost < 4 || cost > 31 {
		return false
	}
	for _, r := range h[7:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '/') {
			return false
		}
	}
	return true
}

// pemCertProblem describes why the file at p is not a PEM file holding
// at least one parseable CERTIFICATE, or returns "".
func pemCertProblem(p string) string {
	data, err := os.ReadFile(p)
	if err != nil {
		return fmt.Sprintf("read %s: %v", p, unwrapPath(err))
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return fmt.Sprintf("%s holds no PEM CERTIFICATE block", p)
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Sprintf("%s: parse certificate: %v", p, err)
		}
		return ""
	}
}
