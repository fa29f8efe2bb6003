package provider

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/oauth2provider/oauth2provider/authcheck"
)

// ErrInvalidCredentials is what [Provider.AuthenticateUser] returns for an
// unknown user or a wrong password, which it never tells apart.
var ErrInvalidCredentials = errors.New("provider: invalid username or password")

// AuthenticateUser checks a resource owner's username and password with
// Config.Users, for the password grant and for the app's own login forms
// (policy.LoginHandler), so both get the same rules. It returns the user
// ID, or [ErrInvalidCredentials] (unknown user or wrong password), or an
// *[Error] the caller writes as it is (the password grant is unsupported,
// the user database failed: 503).
//
// It throttles brute force (RFC 6749 §4.3.2): failed attempts are counted
// with Config.Limiter per (username, client IP) and per client IP
// ([Provider.ClientIP]); over either limit it refuses, without checking
// the password, with a 429 slow_down *[Error] from which [SetRetryAfter]
// sets the Retry-After header. There is no per-user limit across IPs, so
// an attacker cannot lock a user out everywhere. Each attempt counts as a
// failure before the password is checked (atomically in the limiter, so
// that concurrent guesses cannot outrun the count) and is refunded when
// it succeeds; attempts are never serialized. An attempt over the limit
// while others under its key are being checked in this process waits for
// them rather than answering 429, as most of them will be refunded. A
// limiter outage is a 503.
func (p *Provider) AuthenticateUser(r *http.Request, username, password string) (string, error) {
	if p.cfg.Users == nil {
		return "", &Error{Code: CodeUnsupportedGrantType, Description: "password authentication is not enabled", Status: http.StatusBadRequest}
	}
	return p.authenticateUser(r, p.ClientIP(r), username, password)
}

// authenticateUser is AuthenticateUser for a request from client address
// ip, which the caller has read already; Config.Users is set.
func (p *Provider) authenticateUser(r *http.Request, ip netip.Addr, username, password string) (string, error) {
	if !validCredential(username) || !validCredential(password) {
		// No user has such a name or password, and a user database
		// may fail on it (a NUL byte, invalid UTF-8) in a way that
		// would read as an outage: it is not asked, nor counted.
		p.emit(r.Context(), Event{Type: EventUserAuthFailed, IP: ip, Reason: "malformed username or password"})
		return "", ErrInvalidCredentials
	}
	a, e := p.beginPassword(r.Context(), ip, username)
	if e != nil {
		return "", e
	}
	defer a.end()
	userID, err := p.cfg.Users.CheckAuth(r.Context(), username, password)
	switch {
	case errors.Is(err, authcheck.ErrInvalidCredentials):
		ev := Event{Type: EventUserAuthFailed, IP: ip, Reason: "invalid username or password"}
		if e := p.failed(r.Context(), &a, ev); e != nil {
			return "", e
		}
		return "", ErrInvalidCredentials
	case err != nil:
		return "", errUnavailable(err)
	case userID == "":
		return "", errUnavailable(errors.New("provider: AuthChecker returned an empty user ID"))
	}
	// A copy: a checker may return its username argument, which may be a
	// view of the request body that a stored grant would keep alive.
	return strings.Clone(userID), nil
}

// validCredential reports whether s can be a username or a password:
// UTF-8 of the characters RFC 6749 allows there (UNICODECHARNOCRLF,
// Appendix A.3 and A.4): no C0 control character but the tab, no DEL, no
// U+FFFE or U+FFFF (utf8.ValidString refuses surrogates).
func validCredential(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		} else if c >= utf8.RuneSelf {
			return validUnicodeCredential(s[i:])
		}
	}
	return true
}

// validUnicodeCredential is validCredential for s past its ASCII start.
func validUnicodeCredential(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f || r == 0xfffe || r == 0xffff {
			return false
		}
	}
	return true
}
