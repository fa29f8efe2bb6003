package policy

import (
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/oauth2provider/oauth2provider/internal/header"
	"github.com/oauth2provider/oauth2provider/internal/scope"
)

// Require returns middleware that lets a request through only when its
// [Identity] carries every one of scopes. It checks what a policy put in
// the context, so it goes after one: Chain(CookieOrBearer(s),
// Require("write")). A missing scope is 403 with WWW-Authenticate: Bearer
// realm="<realm>", error="insufficient_scope", scope="<the required
// scopes>" (RFC 6750 §3.1; the realm of the provider whose policy
// authenticated the request, also when a middleware behind it replaced
// the Identity with [WithIdentity]; none when no policy did) and a JSON
// body; a request no policy authenticated is 401 with
// WWW-Authenticate: Bearer scope="<the required scopes>" (a wiring
// mistake, refused rather than let through).
//
// Require panics if a scope is not an RFC 6749 §3.3 scope-token, or if
// none is given.
func Require(scopes ...string) func(http.Handler) http.Handler {
	if len(scopes) == 0 {
		panic("policy: Require needs at least one scope")
	}
	for _, s := range scopes {
		if !scope.ValidToken(s) {
			panic("policy: Require: invalid scope " + header.Quote(s))
		}
	}
	scopes = slices.Clone(scopes)
	list := strings.Join(scopes, " ")
	insufficient := func(realm string) failure {
		challenge := `Bearer error="insufficient_scope", scope=` + header.Quote(list)
		if realm != "" {
			challenge = "Bearer realm=" + header.Quote(realm) + `, error="insufficient_scope", scope=` + header.Quote(list)
		}
		return newFailure(http.StatusForbidden, challenge, "insufficient_scope", "the request requires the scope "+list)
	}
	// The answer for the realm of the last refusal: a route's policies
	// almost always share one provider, so it is built once.
	var last atomic.Pointer[realmFailure]
	// RFC 6750 §3: the scheme MUST be followed by an auth-param. No
	// credentials were seen, so no error code; the scope needed is one.
	unauthenticated := newFailure(http.StatusUnauthorized, "Bearer scope="+header.Quote(list),
		"unauthorized", "the request is not authenticated")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, ok := r.Context().Value(ctxKey{}).(*Identity)
			if !ok {
				unauthenticated.write(w)
				return
			}
			for _, s := range scopes {
				if !slices.Contains(id.Scopes, s) {
					realm, _ := r.Context().Value(realmKey{}).(string)
					f := last.Load()
					if f == nil || f.realm != realm {
						f = &realmFailure{realm: realm, failure: insufficient(realm)}
						last.Store(f)
					}
					f.write(w)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Chain composes middleware into one, the first outermost: Chain(a, b)(h)
// is a(b(h)). It is how policies and [Require] are combined per route:
//
//	mux.Handle("POST /api/notes", policy.Chain(policy.CookieOrBearer(s), policy.Require("write"))(h))
func Chain(mws ...func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	mws = slices.Clone(mws)
	return func(h http.Handler) http.Handler {
		for i := len(mws) - 1; i >= 0; i-- {
			h = mws[i](h)
		}
		return h
	}
}

// realmFailure is Require's insufficient_scope answer for one realm.
type realmFailure struct {
	realm string
	failure
}
