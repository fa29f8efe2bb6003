// Package loopback tells whether a host or an address names this
// machine's loopback interface: where the examples and tools may speak
// plain HTTP, and where a database connection needs no TLS.
package loopback

import (
	"net"
	"net/netip"
	"strings"
)

// Host reports whether host (a name or an IP address, without port or
// brackets) is "localhost" (ASCII letters in any case) or a loopback
// address. strings.EqualFold alone would take "localhoſt" (U+017F folds
// to s), a name resolvers do not read as localhost.
func Host(host string) bool {
	if len(host) == len("localhost") && strings.EqualFold(host, "localhost") {
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
