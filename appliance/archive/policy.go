package archive

// Where a Fetch may go: the URL check, and the HTTP client whose
// dialers refuse any address that is not public.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
)

// checkURL applies the scheme, host and (for IP literals) address policy.
func (f *Fetcher) checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: not an absolute URL", ErrNotAllowed)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: URL carries credentials", ErrNotAllowed)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && f.AllowHTTP) {
		return nil, fmt.Errorf("%w: scheme %q", ErrNotAllowed, u.Scheme)
	}
	host := u.Hostname()
	if len(f.Hosts) > 0 && !slices.ContainsFunc(f.Hosts, func(h string) bool { return strings.EqualFold(h, host) }) {
		return nil, fmt.Errorf("%w: host %q is not in media_hosts", ErrNotAllowed, host)
	}
	if ip, err := netip.ParseAddr(host); err == nil && !f.AllowHTTP && !publicAddr(ip) {
		return nil, fmt.Errorf("%w: address %s is not public", ErrNotAllowed, ip)
	}
	return u, nil
}

// httpClient builds, once, the client every Fetch uses (see Fetcher.HTTP).
func (f *Fetcher) httpClient() (*http.Client, error) {
	f.once.Do(func() { f.client, f.clientErr = f.buildClient() })
	return f.client, f.clientErr
}

func (f *Fetcher) buildClient() (*http.Client, error) {
	var c http.Client
	var t *http.Transport
	ownDial := true // the transport's dialer is ours to replace
	if f.HTTP == nil {
		t = &http.Transport{
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   4,
			ForceAttemptHTTP2:     true,
		}
	} else {
		c = *f.HTTP
		switch rt := c.Transport.(type) {
		case nil:
			t = http.DefaultTransport.(*http.Transport).Clone() // its dialer is replaced below
		case *http.Transport:
			t = rt.Clone()
			//lint:ignore SA1019 honour the deprecated field
			ownDial = t.DialContext == nil && t.Dial == nil
		default:
			if !f.AllowHTTP {
				return nil, fmt.Errorf("%w: cannot check addresses through a %T", ErrNotAllowed, rt)
			}
		}
	}
	if t != nil {
		t.Proxy = nil               // a proxy would hide the address from the check
		t.DisableCompression = true // archive the bytes as served
		if ownDial {
			control := checkDialAddress
			if f.AllowHTTP {
				control = nil
			}
			//lint:ignore SA1019 a caller's transport may still set the deprecated dialer
			t.Dial = nil
			t.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second, Control: control}).DialContext
		} else if !f.AllowHTTP {
			guardDialers(t)
		}
		c.Transport = t
	}
	c.Jar = nil
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return errors.New("too many redirects")
		}
		if _, err := f.checkURL(req.URL.String()); err != nil {
			return err
		}
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
		return nil
	}
	return &c, nil
}

// guardDialers makes every connection through the caller's dialers pass
// the address check, after connecting and before any byte is sent.
func guardDialers(t *http.Transport) {
	//lint:ignore SA1019 honour the deprecated field
	if t.DialContext == nil && t.Dial != nil {
		//lint:ignore SA1019 a caller's transport may still set the deprecated dialer
		dial := t.Dial
		t.DialContext = func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }
	}
	//lint:ignore SA1019 a caller's transport may still set the deprecated dialer
	t.Dial = nil
	t.DialContext = checkedDial(t.DialContext)
	//lint:ignore SA1019 a caller's transport may still set the deprecated dialer
	if t.DialTLSContext == nil && t.DialTLS != nil {
		//lint:ignore SA1019 a caller's transport may still set the deprecated dialer
		dial := t.DialTLS
		t.DialTLSContext = func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }
	}
	//lint:ignore SA1019 a caller's transport may still set the deprecated dialer
	t.DialTLS = nil
	if t.DialTLSContext != nil {
		t.DialTLSContext = checkedDial(t.DialTLSContext)
	}
}

// checkDialAddress is a net.Dialer.Control: it runs for every address
// dialled, after DNS resolution, before the connection is attempted.
func checkDialAddress(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: address %q", ErrNotAllowed, address)
	}
	if !publicAddr(ap.Addr()) {
		return fmt.Errorf("%w: address %s is not public", ErrNotAllowed, ap.Addr())
	}
	return nil
}

// checkedDial wraps a caller's dialer: the connection is closed, unused,
// unless its remote address is public.
func checkedDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		var ip netip.Addr
		if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
			ip = ta.AddrPort().Addr()
		}
		if !publicAddr(ip) {
			conn.Close()
			return nil, fmt.Errorf("%w: address %v is not public", ErrNotAllowed, conn.RemoteAddr())
		}
		return conn, nil
	}
}

// nonPublic lists special-purpose ranges not covered by netip's
// predicates (RFC 6890 and successors).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
}

// Prefixes that embed an IPv4 address, which must be public itself.
var (
	nat64    = netip.MustParsePrefix("64:ff9b::/96")
	six2four = netip.MustParsePrefix("2002::/16")
)

// publicAddr reports whether ip is a public unicast address: not invalid,
// loopback, private (RFC 1918, fc00::/7), link-local, unspecified,
// multicast, CGNAT, documentation, benchmarking or reserved, and, for an
// IPv4-mapped, NAT64 or 6to4 address, not embedding such an address.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	b := ip.As16()
	switch {
	case ip.Is6() && nat64.Contains(ip):
		return publicAddr(netip.AddrFrom4([4]byte(b[12:16])))
	case ip.Is6() && six2four.Contains(ip):
		return publicAddr(netip.AddrFrom4([4]byte(b[2:6])))
	}
	return true
}
