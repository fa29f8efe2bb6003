package provider

import (
	"net/netip"
	"net/url"
	"strings"
)

// matchRedirectURI returns the registered redirect URI that requested
// matches, and whether one does. Matching is exact string comparison (RFC
// 9700 §2.1), with one exception from RFC 8252 §7.3: an http URI whose
// host is a loopback IP literal (127.0.0.1, [::1]) matches a registered
// one that differs only in the port, since a native app listens on
// whatever port the system gives it.
func matchRedirectURI(registered []string, requested string) bool {
	for _, reg := range registered {
		if reg == requested {
			return true
		}
	}
	reqHost, reqRest, ok := splitLoopback(requested)
	if !ok {
		return false
	}
	for _, reg := range registered {
		if h, rest, ok := splitLoopback(reg); ok && h == reqHost && rest == reqRest {
			return true
		}
	}
	return false
}

// splitLoopback splits an "http://<loopback IP literal>[:port]<rest>" URI
// into its host (without the port) and everything after the authority.
// ok is false for any other URI, including one with user info.
func splitLoopback(s string) (host, rest string, ok bool) {
	const scheme = "http://"
	if !strings.HasPrefix(s, scheme) {
		return "", "", false
	}
	authority := s[len(scheme):]
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority, rest = authority[:i], authority[i:]
	}
	host, port := authority, ""
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return "", "", false
		}
		host, port = authority[:end+1], authority[end+1:]
	} else if i := strings.IndexByte(authority, ':'); i >= 0 {
		host, port = authority[:i], authority[i:]
	}
	if port != "" {
		if len(port) < 2 || port[0] != ':' || len(port) > 6 {
			return "", "", false
		}
		for _, c := range port[1:] {
			if c < '0' || c > '9' {
				return "", "", false
			}
		}
	}
	addr, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil || !addr.IsLoopback() || addr.Zone() != "" || (addr.Is4() && strings.HasPrefix(host, "[")) {
		return "", "", false
	}
	return host, rest, true
}

// redirectWith returns redirectURI with params added to its query,
// keeping the query it already has (RFC 6749 §3.1.2).
func redirectWith(redirectURI string, params url.Values) string {
	base, frag, _ := strings.Cut(redirectURI, "#") // a registered URI has no fragment; never keep one
	_ = frag
	// The query starts at the first "?"; a "?" after it is part of it.
	sep := "?"
	if _, query, ok := strings.Cut(base, "?"); ok {
		sep = "&"
		if query == "" || strings.HasSuffix(query, "&") {
			sep = ""
		}
	}
	return base + sep + params.Encode()
}
