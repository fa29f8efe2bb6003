// Package header holds HTTP header syntax shared by the provider and the
// policies.
package header

import "net/http"

// Quote returns s as an RFC 9110 quoted-string (§5.6.4), for an
// auth-param of a WWW-Authenticate challenge: '"' and '\' are escaped,
// and control characters, which no header may carry, are dropped.
func Quote(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c == 0x7f:
		default:
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}

// EqualFoldASCII reports whether s and t are equal under ASCII case
// folding alone, as HTTP compares scheme names and other tokens (RFC 9110
// §5.6.2) and DNS compares names: strings.EqualFold also folds Unicode,
// so it would take "Baſic" (U+017F folds to s) for "Basic" and
// "localhoſt" for "localhost", which HTTP and resolvers do not.
func EqualFoldASCII(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// First returns the first value of the request header key, which must be
// in canonical form (TestHeaderKeysAreCanonical checks the callers):
// net/http canonicalizes the keys of every request it reads, so a map
// index finds it, where Header.Get canonicalizes key again on every call.
func First(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// PlainHTTPOrigin returns the Origin of a request whose browser sent no
// Sec-Fetch-Site (none, or an empty first value) when that Origin is
// http:// (any case, as net/url reads a scheme), else "". On a request
// that came over HTTPS such a page is of another origin, the same host
// in plain HTTP, which a network attacker can serve; net/http's
// CrossOriginProtection, which then compares Origin's host with Host
// only, lets it through. A non-empty Sec-Fetch-Site is what
// CrossOriginProtection judged by.
func PlainHTTPOrigin(h http.Header) string {
	if First(h, "Sec-Fetch-Site") != "" {
		return ""
	}
	const plain = "http://"
	origin := First(h, "Origin")
	if len(origin) >= len(plain) && EqualFoldASCII(origin[:len(plain)], plain) {
		return origin
	}
	return ""
}
