package policy

import (
	"net/http"

	"github.com/oauth2provider/oauth2provider/provider"
)

// CookieOrBearer returns middleware for routes that serve both browsers
// with a session cookie and API clients with a bearer token, like the
// Pyramid seed's OauthTktAuthenticationPolicy:
//
//   - A request with an Authorization header is a bearer request: only the
//     token counts, exactly as under [Bearer], and a cookie it also carries
//     is ignored. A bad token is refused even next to a valid cookie.
//   - A request without one is authenticated by the session cookie of s,
//     exactly as under [Cookie] (over HTTPS unless the provider allows
//     plain HTTP, 400 otherwise, with the challenge Bearer answers a
//     token in the clear with): unsafe methods must pass
//     net/http.CrossOriginProtection (403 otherwise). Bearer requests are
//     not subject to that check: a browser never attaches a bearer token
//     to a request by itself, so a cross-site page cannot forge one. (A
//     browser may replay cached Basic credentials, but another scheme
//     counts as no credentials and is 401.)
//
// A request with neither is 401 with the bearer policy's challenge
// (WWW-Authenticate: Bearer realm="..."), as is an invalid cookie or two
// of them (see [Cookie]); a
// cross-origin cookie request's 403 carries the same challenge, as every
// 401 and 403 of a protected route does.
//
// CookieOrBearer panics if s is nil.
func CookieOrBearer(s *Sessions) func(http.Handler) http.Handler {
	if s == nil {
		panic("policy: CookieOrBearer needs sessions")
	}
	bearer := Bearer(s.p)
	f := newCookieFailures(s.p.BearerChallenge("", ""), "a session cookie or a bearer token is required")
	// A cookie in the clear is answered as Bearer answers a token in the
	// clear, challenge included (RFC 6750 §3.1).
	f.plainHTTP = bearerFailure(s.p, http.StatusBadRequest, provider.CodeInvalidRequest, "HTTPS is required")
	return func(next http.Handler) http.Handler {
		bearerNext := bearer(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if len(r.Header["Authorization"]) > 0 {
				bearerNext.ServeHTTP(w, r)
				return
			}
			s.serveCookie(w, r, next, &f)
		})
	}
}
