package policy

import (
	"errors"
	"net/http"
	"slices"

	"github.com/oauth2provider/oauth2provider/internal/header"
	"github.com/oauth2provider/oauth2provider/provider"
)

// cookieFailures are the precomputed error answers of a cookie-checking
// policy; the challenge differs between Cookie and CookieOrBearer.
type cookieFailures struct {
	noCredentials, plainHTTP, invalid, ambiguous, crossOrigin, unavailable failure
}

func newCookieFailures(challenge, noCredentialsDesc string) cookieFailures {
	return cookieFailures{
		noCredentials: newFailure(http.StatusUnauthorized, challenge, "unauthorized", noCredentialsDesc),
		plainHTTP: newFailure(http.StatusBadRequest, challenge,
			provider.CodeInvalidRequest, "HTTPS is required"),
		invalid: newFailure(http.StatusUnauthorized, challenge,
			provider.CodeInvalidToken, "the session is invalid, expired or ended"),
		ambiguous: newFailure(http.StatusUnauthorized, challenge,
			provider.CodeInvalidToken, "the request carries more than one session cookie"),
		crossOrigin: newFailure(http.StatusForbidden, challenge,
			"cross_origin_request", "cross-origin request refused"),
		unavailable: newFailure(http.StatusServiceUnavailable, challenge,
			provider.CodeTemporarilyUnavailable, "the service is temporarily unavailable, try again later"),
	}
}

// Cookie returns middleware that lets a request through only with a live
// session cookie of s, and puts the request's [Identity] (Method
// "cookie", ClientID empty, the sessions' Scopes) in its context.
//
// Unsafe methods (POST, PUT, PATCH, DELETE, ...) must also pass
// net/http.CrossOriginProtection: a cross-origin browser request is 403
// even with a valid cookie. With SessionConfig.Sliding the session is
// renewed on use.
//
// A cookie presented in a request that is not
// [provider.Provider.SecureEnough] (it did not come over HTTPS, and the
// provider does not allow plain HTTP) is refused, 400 invalid_request,
// like a bearer token: the session is not used, nor slid.
//
// Failures are JSON (error, error_description) with Cache-Control:
// no-store: no cookie is 401 unauthorized; an invalid, expired or ended
// session (logout, user revoked, binding mismatch) is 401 invalid_token
// and the cookie is cleared; two session cookies of different values
// (one planted for a longer Path or a parent Domain, which the browser
// sends before its own) are 401 invalid_token, and neither is used nor
// cleared; a store outage is 503
// temporarily_unavailable with Retry-After. A 401 or 403 carries
// WWW-Authenticate: Cookie realm="<realm>", which names no standard
// scheme but keeps browsers from offering a password dialog.
//
// Cookie panics if s is nil.
func Cookie(s *Sessions) func(http.Handler) http.Handler {
	if s == nil {
		panic("policy: Cookie needs sessions")
	}
	f := newCookieFailures("Cookie realm="+header.Quote(s.p.Realm()), "a session cookie is required")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.serveCookie(w, r, next, &f)
		})
	}
}

// serveCookie authenticates r by its session cookie and calls next, or
// answers with one of f.
func (s *Sessions) serveCookie(w http.ResponseWriter, r *http.Request, next http.Handler, f *cookieFailures) {
	raw, ambiguous := s.sessionToken(r)
	if raw == "" && !ambiguous {
		f.noCredentials.write(w)
		return
	}
	// A credential that came in the clear is not used, as under Bearer.
	if !s.p.SecureEnough(r) {
		f.plainHTTP.write(w)
		return
	}
	// Two sessions, one planted: neither is used, and the cookie is not
	// cleared, which would drop the browser's own and keep the planted.
	if ambiguous {
		f.ambiguous.write(w)
		return
	}
	// Cheap before costly: the CSRF check needs no store lookup.
	if err := s.checkOrigin(r); err != nil {
		f.crossOrigin.write(w)
		return
	}
	ti, err := s.validate(r, raw)
	if err != nil {
		if errors.Is(err, provider.ErrInvalidToken) {
			s.clearCookie(w, r)
			f.invalid.write(w)
		} else {
			s.p.LogOutage(r, err)
			w.Header()["Retry-After"] = []string{"1"}
			f.unavailable.write(w)
		}
		return
	}
	s.renew(w, r, raw, ti.Grant.CreatedAt, ti.Token.ExpiresAt)
	ctx := &identityCtx{Context: r.Context(), id: Identity{
		UserID:   ti.Grant.UserID,
		ClientID: ti.Grant.ClientID,
		GrantID:  ti.Grant.ID,
		Scopes:   s.grantedScopes(ti.EffectiveScopes()),
		Method:   MethodCookie,
	}, realm: &s.realm}
	next.ServeHTTP(w, r.WithContext(ctx))
}

// grantedScopes returns the scopes of a session stored with scopes that
// the sessions' Scopes, as configured now, still grant: a scope taken out
// of SessionConfig.Scopes since the session started no longer counts. It
// returns stored itself (read-only) when all of it is still granted.
func (s *Sessions) grantedScopes(stored []string) []string {
	for i, sc := range stored {
		if slices.Contains(s.scopes, sc) {
			continue
		}
		kept := slices.Clone(stored[:i])
		for _, sc := range stored[i+1:] {
			if slices.Contains(s.scopes, sc) {
				kept = append(kept, sc)
			}
		}
		return kept
	}
	return stored
}
