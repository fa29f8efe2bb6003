// Package loopback tells whether a host or an address names this
// machine's loopback interface: where the examples and tools may speak
// plain HTTP, and where a database connection needs no TLS.
package loopback

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"

	"github.com/oauth2provider/oauth2provider/internal/header"
)

// Host reports whether host (a name or an IP address, without port or
// brackets) is "localhost" (ASCII letters in any case, as resolvers
// compare names: not "localhoſt") or a loopback address.
func Host(host string) bool {
	if header.EqualFoldASCII(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// Addr reports whether the host of addr ("host:port", as a listen address
// is given) is a loopback host; a malformed addr is not.
func Addr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && Host(host)
}

// CheckURL refuses rawURL, the value of the command-line flag flag, when
// what it carries (crossing, "the tokens" say) would reach it in clear
// over the network: it must be https, or plain http to a loopback host.
func CheckURL(flag, rawURL, crossing string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%s %q is not a URL", flag, rawURL)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if Host(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%s %s: plain http only to this machine (127.0.0.1, ::1, localhost); %s would cross the network in clear: use https", flag, rawURL, crossing)
	}
	return fmt.Errorf("%s %q: want an http(s) URL", flag, rawURL)
}
