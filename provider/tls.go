package provider

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/oauth2provider/oauth2provider/internal/header"
)

// trusted reports whether addr is one of the configured reverse proxies.
// An IPv6 zone ("fe80::1%eth0", which a link-local peer's address
// carries) names one of our interfaces, not another network: it is
// ignored, since netip.Prefix.Contains never matches a zoned address.
func (p *Provider) trusted(addr netip.Addr) bool {
	if !addr.IsValid() {
		return false
	}
	addr = addr.WithZone("")
	for _, pfx := range p.cfg.TrustedProxies {
		if pfx.Contains(addr) {
			return true
		}
	}
	return false
}

// fromTrustedProxy reports whether r's peer, at address addr
// (remoteAddr of r), is a trusted reverse proxy: one of TrustedProxies,
// or any peer on a Unix socket with TrustUnixSocketProxy.
func (p *Provider) fromTrustedProxy(r *http.Request, addr netip.Addr) bool {
	if p.trusted(addr) {
		return true
	}
	if !p.cfg.TrustUnixSocketProxy {
		return false
	}
	_, unix := r.Context().Value(http.LocalAddrContextKey).(*net.UnixAddr)
	return unix
}

// remoteAddr parses r.RemoteAddr ("ip:port", or a bare IP) into an
// address, 4in6 unmapped. It returns the zero Addr when it cannot.
func remoteAddr(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

// lastListValue returns the right-most element of the comma-separated
// list formed by vs, all the values of a header, trimmed; the right-most
// one was set by the proxy nearest to us.
func lastListValue(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	v := vs[len(vs)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// IsHTTPS reports whether the client sent r over TLS. From a trusted
// proxy (Config.TrustedProxies, Config.TrustUnixSocketProxy) that sends
// X-Forwarded-Proto, that header says, whatever the hop from the proxy to
// us: "https" is HTTPS, anything else is not, even when the proxy reached
// us over TLS (a load balancer that re-encrypts to its targets took the
// client's request in the clear when it says "http"). Otherwise r.TLS
// says. The header is ignored from anyone else, since a client can set
// it at will.
func (p *Provider) IsHTTPS(r *http.Request) bool {
	if len(p.cfg.TrustedProxies) == 0 && !p.cfg.TrustUnixSocketProxy {
		return r.TLS != nil // no proxy to believe: spare parsing RemoteAddr
	}
	if vs := r.Header["X-Forwarded-Proto"]; len(vs) > 0 && p.fromTrustedProxy(r, remoteAddr(r)) {
		return header.EqualFoldASCII(lastListValue(vs), "https")
	}
	return r.TLS != nil
}

// SecureEnough reports whether r may carry credentials: it came over
// HTTPS ([Provider.IsHTTPS]), or Config.AllowInsecureHTTP is set. The
// endpoints and the policies refuse a request for which it is false.
func (p *Provider) SecureEnough(r *http.Request) bool {
	return p.cfg.AllowInsecureHTTP || p.IsHTTPS(r)
}

// ClientIP returns the address of the client that sent r. It is the
// connection's remote address, unless that is a trusted proxy
// (Config.TrustedProxies, Config.TrustUnixSocketProxy): then
// X-Forwarded-For is read from the right and
// the first hop that is not a trusted proxy is the client. Hops left of it
// are ignored, because the client itself may have written them. When every
// hop is trusted, the left-most is returned; when a hop cannot be parsed,
// the last trusted address before it is. The zero Addr means RemoteAddr
// could not be parsed.
func (p *Provider) ClientIP(r *http.Request) netip.Addr {
	addr := remoteAddr(r)
	if !p.fromTrustedProxy(r, addr) {
		return addr
	}
	vs := r.Header["X-Forwarded-For"] // canonical key: see header.First
	for i := len(vs) - 1; i >= 0; i-- {
		list := vs[i]
		for list != "" {
			var hop string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				hop, list = list[j+1:], list[:j]
			} else {
				hop, list = list, ""
			}
			hop = strings.TrimSpace(hop)
			if hop == "" {
				continue
			}
			a, err := netip.ParseAddr(hop)
			if err != nil {
				// Some proxies write ip:port; anything else ends the walk.
				ap, err2 := netip.ParseAddrPort(hop)
				if err2 != nil {
					return addr
				}
				a = ap.Addr()
			}
			a = a.Unmap()
			if !p.trusted(a) {
				return a
			}
			addr = a
		}
	}
	return addr
}
