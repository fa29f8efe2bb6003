// Package loopback tells whether a host or an address names this
// machine's loopback interface: where the examples and tools may speak
// plain HTTP, and where a database connection needs no TLS.
package loopback

import (
	"net"
	"net/netip"

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
