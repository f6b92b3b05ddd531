package archive

import (
	"errors"
	"net/netip"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	cases := []struct {
		name   string
		addr   string
		public bool
	}{
		{"public IPv4", "8.8.8.8", true},
		{"public IPv4 near CGNAT", "100.128.0.1", true},
		{"public IPv6", "2606:4700:4700::1111", true},
		{"NAT64 of a public address", "64:ff9b::808:808", true},
		{"6to4 of a public address", "2002:808:808::1", true},
		{"loopback", "127.0.0.1", false},
		{"loopback, far end", "127.255.255.254", false},
		{"IPv6 loopback", "::1", false},
		{"IPv4-mapped loopback", "::ffff:127.0.0.1", false},
		{"IPv4-mapped private", "::ffff:10.0.0.1", false},
		{"private 10/8", "10.0.0.1", false},
		{"private 172.16/12", "172.31.255.255", false},
		{"private 192.168/16", "192.168.0.1", false},
		{"IPv6 unique local", "fd12:3456::1", false},
		{"link-local (cloud metadata)", "169.254.169.254", false},
		{"IPv6 link-local", "fe80::1", false},
		{"IPv6 link-local with zone", "fe80::1%eth0", false},
		{"unspecified", "0.0.0.0", false},
		{"this network", "0.1.2.3", false},
		{"IPv6 unspecified", "::", false},
		{"CGNAT", "100.64.0.1", false},
		{"benchmarking", "198.18.0.1", false},
		{"documentation", "203.0.113.7", false},
		{"reserved", "240.0.0.1", false},
		{"broadcast", "255.255.255.255", false},
		{"multicast", "224.0.0.1", false},
		{"IPv6 multicast", "ff02::1", false},
		{"NAT64 of loopback", "64:ff9b::7f00:1", false},
		{"6to4 of private", "2002:a00:1::1", false},
		{"site-local", "fec0::1", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := publicAddr(netip.MustParseAddr(tc.addr)); got != tc.public {
				t.Fatalf("publicAddr(%s) = %v, want %v", tc.addr, got, tc.public)
			}
		})
	}
	if publicAddr(netip.Addr{}) {
		t.Fatal("the zero Addr is public")
	}
}

func TestCheckDialAddress(t *testing.T) {
	cases := []struct {
		name    string
		address string
		allowed bool
	}{
		{"public", "93.184.215.14:443", true},
		{"public IPv6", "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443", true},
		{"loopback", "127.0.0.1:443", false},
		{"IPv6 loopback", "[::1]:443", false},
		{"not an address", "localhost:443", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkDialAddress("tcp", tc.address, nil)
			if (err == nil) != tc.allowed || (err != nil && !errors.Is(err, ErrNotAllowed)) {
				t.Fatalf("checkDialAddress(%s) = %v, want allowed %v", tc.address, err, tc.allowed)
			}
		})
	}
}

func TestParseContentRange(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want contentRange
		ok   bool
	}{
		{"to the end", "bytes 100-999/1000", contentRange{100, 999, 1000}, true},
		{"unknown size", "bytes 100-999/*", contentRange{100, 999, -1}, true},
		{"stops short of the end", "bytes 100-499/1000", contentRange{}, false},
		{"end past the size", "bytes 100-1000/1000", contentRange{}, false},
		{"unsatisfied", "bytes */1000", contentRange{}, false},
		{"end before start", "bytes 500-100/1000", contentRange{}, false},
		{"negative", "bytes -1-999/1000", contentRange{}, false},
		{"other unit", "items 0-9/10", contentRange{}, false},
		{"empty", "", contentRange{}, false},
		{"garbage", "bytes a-b/c", contentRange{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseContentRange(tc.in)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("parseContentRange(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}
