// Package redirecturi tells whether a URI can be a client's redirection
// endpoint for the authorization code grant: the rule oauth2ctl applies
// when a client is registered and the authorization endpoint applies
// again before it sends a code there, since a client may reach the store
// by other means.
package redirecturi

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/oauth2provider/oauth2provider/internal/loopback"
	"github.com/oauth2provider/oauth2provider/internal/query"
)

// ErrNotAbsolute is the error of Check for a URI that is not an absolute
// URI without a fragment (RFC 6749 §3.1.2).
var ErrNotAbsolute = errors.New("not an absolute URI without a fragment (RFC 6749 §3.1.2)")

// Check returns nil when u can receive an authorization code: an absolute
// URI without a fragment (RFC 6749 §3.1.2), not of a scheme a browser
// runs or reads locally, https with a host, or http with a host on the
// loopback interface only (RFC 9700 §2.6, RFC 8252 §7.3), and without a
// parameter of the authorization response in its query ([CheckQuery]).
// Other schemes, such as a native app's private-use one
// (com.example.app:/cb), pass.
func Check(u string) error {
	p, err := Parse(u)
	if err != nil {
		return err
	}
	if err := CheckScheme(p); err != nil {
		return err
	}
	return CheckQuery(p.RawQuery)
}

// ErrNotURI is the error of Check for a string holding a character that
// no URI holds (RFC 3986 §2): a space, a control character, one of
// "<>\^`{|} or a non-ASCII byte, which must be percent-encoded, or a "%"
// not followed by two hex digits (a percent sign itself is "%25").
// net/url takes most of them, but a URI registered with one is shown and
// compared unlike the one a client sends.
var ErrNotURI = errors.New("holds a character that a URI cannot (RFC 3986 §2): percent-encode it")

// Parse parses u, the first part of Check: it returns [ErrNotURI] unless
// u holds only the characters of a URI, and [ErrNotAbsolute] unless u is
// an absolute URI without a fragment (RFC 6749 §3.1.2).
func Parse(u string) (*url.URL, error) {
	for i := 0; i < len(u); i++ {
		if !uriChar[u[i]] || u[i] == '%' && (i+2 >= len(u) || !isHex(u[i+1]) || !isHex(u[i+2])) {
			return nil, ErrNotURI
		}
	}
	p, err := url.Parse(u)
	if err != nil || !p.IsAbs() || p.Fragment != "" || strings.Contains(u, "#") {
		return nil, ErrNotAbsolute
	}
	return p, nil
}

// responseParams are the parameters the authorization endpoint adds to
// the redirect URI's query (RFC 6749 §4.1.2, §4.1.2.1, RFC 9207).
var responseParams = []string{"code", "state", "iss", "error", "error_description", "error_uri"}

// CheckQuery refuses a redirect URI query that names a parameter of the
// authorization response: the answer would carry it twice, which RFC
// 6749 §3.1 forbids, and a client reading the first would read the
// registered one. Pairs are split at ";" as well as "&", as some
// clients' parsers do.
func CheckQuery(rawQuery string) error {
	if key, ok := query.First(rawQuery, responseParams...); ok {
		return fmt.Errorf("its query holds %q, a parameter of the authorization response (RFC 6749 §3.1)", key)
	}
	return nil
}

// CheckScheme is the part of Check about p's scheme and host: it refuses
// schemes that would hand the authorization code to a script or to the
// network in clear: those a browser runs or reads locally, http(s)
// without a host, and plain http except on the loopback interface (RFC
// 9700 §2.6, RFC 8252 §7.3).
func CheckScheme(p *url.URL) error {
	switch strings.ToLower(p.Scheme) {
	case "javascript", "vbscript", "data", "blob", "file", "about", "filesystem":
		return fmt.Errorf("the %s: scheme cannot receive an authorization code", strings.ToLower(p.Scheme))
	case "https":
		if p.Host == "" {
			return errors.New("an https URI needs a host")
		}
	case "http":
		if p.Host == "" {
			return errors.New("an http URI needs a host")
		}
		if !loopback.Host(p.Hostname()) {
			return errors.New("use https (plain http only on a loopback address such as 127.0.0.1)")
		}
	}
	return nil
}

// uriChar reports which bytes a URI may hold: the unreserved and reserved
// characters of RFC 3986 §2 and "%", which Parse takes only as the start
// of a percent-encoding (url.Parse checks that in the host and the path,
// not in the query).
var uriChar = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%") {
		t[c] = true
	}
	return t
}()

// isHex reports whether c is a hex digit of a percent-encoding.
func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
