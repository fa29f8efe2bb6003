package provider

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"

	"github.com/oauth2provider/oauth2provider/authcheck"
)

// ErrInvalidCredentials is what [Provider.AuthenticateUser] returns for an
// unknown user or a wrong password, which it never tells apart. An
// [authcheck.AuthChecker] that returns it (rather than
// authcheck.ErrInvalidCredentials) is understood the same.
var ErrInvalidCredentials = errors.New("provider: invalid username or password")

// MaxUsernameBytes is the longest username [Provider.AuthenticateUser]
// judges, in bytes: a longer one is [ErrInvalidCredentials] at once,
// neither counted nor passed to Config.Users. A username is folded for
// its throttling key before the limiter is asked, whatever the limiter
// would answer, and the fold of text made to expand (a ligature that
// compatibility decomposition makes 18 runes) costs, over the 64 KiB a
// request body may hold, more than an argon2id check; 1 KiB holds any
// email address (254 bytes) or login name several times over.
const MaxUsernameBytes = 1 << 10

// AuthenticateUser checks a resource owner's username and password with
// Config.Users, for the password grant and for the app's own login forms
// (policy.LoginHandler), so both get the same rules. It returns the user
// ID, or [ErrInvalidCredentials] (unknown user or wrong password), or an
// *[Error] the caller writes as it is (the password grant is unsupported,
// the user database failed: 503). A username longer than
// [MaxUsernameBytes] is ErrInvalidCredentials, unchecked and uncounted.
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
// limiter outage is a 503. An attempt whose check panics, or returns an
// empty user ID without an error (a 503), stays counted as failed.
func (p *Provider) AuthenticateUser(r *http.Request, username, password string) (string, error) {
	if p.cfg.Users == nil {
		return "", &Error{Code: CodeUnsupportedGrantType, Description: "password authentication is not enabled", Status: http.StatusBadRequest}
	}
	return p.authenticateUser(r, "", p.ClientIP(r), username, password)
}

// authenticateUser is AuthenticateUser for a request from client address
// ip, which the caller has read already, through the authenticated client
// clientID ("" for none, as at a login form), which its events report;
// Config.Users is set.
func (p *Provider) authenticateUser(r *http.Request, clientID string, ip netip.Addr, username, password string) (string, error) {
	if len(username) > MaxUsernameBytes {
		// No user has such a name, and folding it for its throttling key
		// (before the limiter can refuse it) would cost more than the
		// password check the throttle spares: see MaxUsernameBytes.
		p.emit(r.Context(), Event{Type: EventUserAuthFailed, ClientID: clientID, IP: ip, Reason: "username too long"})
		return "", ErrInvalidCredentials
	}
	// RFC 6749 Appendix A.3, A.4: UNICODECHARNOCRLF.
	if !isText(username, true) || !isText(password, true) {
		// No user has such a name or password, and a user database
		// may fail on it (a NUL byte, invalid UTF-8) in a way that
		// would read as an outage: it is not asked, nor counted.
		p.emit(r.Context(), Event{Type: EventUserAuthFailed, ClientID: clientID, IP: ip, Reason: "malformed username or password"})
		return "", ErrInvalidCredentials
	}
	a, e := p.beginPassword(r.Context(), ip, username)
	if e != nil {
		return "", e
	}
	judged := false
	defer func() {
		if !judged {
			// CheckAuth panicked: it may have judged the password first,
			// and the client tells a panic (a dropped connection) from a
			// success, so the failure reserved stays counted; a refund
			// would make a checker that panics on wrong passwords an
			// unthrottled guessing oracle.
			a.failed = true
		}
		a.end()
	}()
	userID, err := p.cfg.Users.CheckAuth(r.Context(), username, password)
	judged = true
	switch {
	// A checker may return this package's ErrInvalidCredentials, of the
	// same name and meaning: taken for an outage, each wrong password
	// would be a 503 and refunded, an unthrottled guessing oracle.
	case errors.Is(err, authcheck.ErrInvalidCredentials), errors.Is(err, ErrInvalidCredentials):
		ev := Event{Type: EventUserAuthFailed, ClientID: clientID, IP: ip, Reason: "invalid username or password"}
		if e := p.failed(r.Context(), &a, ev); e != nil {
			return "", e
		}
		return "", ErrInvalidCredentials
	case err != nil:
		return "", errUnavailable(err)
	case userID == "":
		// A broken checker, not an outage: one that answers a wrong
		// password so (a lookup that found no row) and a right one with
		// an ID would make this 503 a guessing oracle if it were
		// refunded. The attempt stays counted, as a panic's does.
		a.failed = true
		return "", errUnavailable(errors.New("provider: AuthChecker returned an empty user ID"))
	}
	// A copy: a checker may return its username argument, which may be a
	// view of the request body that a stored grant would keep alive.
	return strings.Clone(userID), nil
}
