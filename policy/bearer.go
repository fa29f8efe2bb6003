package policy

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/oauth2provider/oauth2provider/internal/header"
	"github.com/oauth2provider/oauth2provider/internal/query"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// tokenInfos recycles the TokenInfo a validation fills. Nothing of it
// outlives the validation: the Identity copies its strings and slice
// headers, and the store's scopes they point to are read-only.
var tokenInfos = sync.Pool{New: func() any { return new(storage.TokenInfo) }}

// credential is what an Authorization header holds, as far as the bearer
// scheme is concerned.
type credential int

const (
	credNone      credential = iota // no header, or another scheme
	credMalformed                   // a bearer header that is not well formed
	credBearer                      // one well-formed bearer token
)

// bearerCandidate reads the bearer token of RFC 6750 §2.1 from the
// values of the Authorization header: exactly one header, the scheme
// "Bearer" in any case, one or more spaces, and the token. Another scheme
// counts as no credentials; a second header, or a missing token, is
// credMalformed. It does not check that the token is a b64token
// ([isB64Token]), which Bearer does only when the token fails validation:
// a token the provider accepts is one. It does not allocate.
func bearerCandidate(values []string) (string, credential) {
	switch len(values) {
	case 0:
		return "", credNone
	case 1:
	default:
		return "", credMalformed
	}
	// The usual header, "Bearer " and a token, answered without the
	// general parsing, which gives the same answer for it.
	if v := values[0]; len(v) > 7 && v[:7] == "Bearer " && v[7] != ' ' {
		return v[7:], credBearer
	}
	return parseBearer(values[0])
}

// parseBearer is bearerCandidate for one header value v, by the general
// parsing: the scheme up to the first space, then the token after any
// further spaces.
func parseBearer(v string) (string, credential) {
	scheme, rest, _ := strings.Cut(v, " ")
	if !header.EqualFoldASCII(scheme, "Bearer") {
		return "", credNone
	}
	rest = strings.TrimLeft(rest, " ")
	if rest == "" {
		return "", credMalformed
	}
	return rest, credBearer
}

// isB64Token reports whether s is a b64token (RFC 6750 §2.1):
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	n := len(s)
	for n > 0 && s[n-1] == '=' {
		n--
	}
	if n == 0 {
		return false
	}
	for i := 0; i < n; i++ {
		if !b64TokenChar[s[i]] {
			return false
		}
	}
	return true
}

// b64TokenChar reports which bytes a b64token may hold before its "="s.
var b64TokenChar = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
	}
	return t
}()

// failure is a precomputed error answer of the bearer policy.
type failure struct {
	status    int
	challenge string
	body      []byte
}

func newFailure(status int, challenge, code, desc string) failure {
	body, _ := json.Marshal(struct { // two strings: it cannot fail
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, desc})
	return failure{status: status, challenge: challenge, body: append(body, '\n')}
}

func (f *failure) write(w http.ResponseWriter) {
	h := w.Header()
	if f.challenge != "" {
		h["Www-Authenticate"] = []string{f.challenge} // canonical form, set without allocating a key
	}
	h["Content-Type"] = []string{"application/json;charset=utf-8"}
	h["Cache-Control"] = []string{"no-store"}
	w.WriteHeader(f.status)
	_, _ = w.Write(f.body)
}

// Bearer returns middleware that lets a request through only with a valid
// access token of p in its Authorization header (RFC 6750 §2.1), and puts
// the request's [Identity] (Method "bearer") in its context. Tokens in the
// URL query or the form body are not accepted; a request with a token in
// its Authorization header and an access_token in its URL query is 400
// invalid_request (RFC 6750 §3.1: one method per request), so that the
// page or client leaking tokens into URLs is fixed.
//
// A request that is not [provider.Provider.SecureEnough] (it did not come
// over HTTPS, and p does not allow plain HTTP) is refused, 400
// invalid_request: a bearer token must not travel in the clear (RFC 6750
// §5.3).
//
// Failures carry a WWW-Authenticate: Bearer challenge in p's realm and a
// JSON body: no credentials (or another scheme) is 401 without an error
// code (RFC 6750 §3.1); a malformed header is 400 invalid_request; a
// malformed, unknown, expired or revoked token is 401 invalid_token; a
// store outage is 503 temporarily_unavailable.
//
// Bearer panics if p is nil.
func Bearer(p *provider.Provider) func(http.Handler) http.Handler {
	if p == nil {
		panic("policy: Bearer needs a provider")
	}
	var (
		noCredentials = newFailure(http.StatusUnauthorized, p.BearerChallenge("", ""),
			"unauthorized", "a bearer token is required")
		malformed    = bearerFailure(p, http.StatusBadRequest, provider.CodeInvalidRequest, "malformed Authorization header")
		invalidToken = bearerFailure(p, http.StatusUnauthorized, provider.CodeInvalidToken, "the access token is invalid, expired or revoked")
		unavailable  = newFailure(http.StatusServiceUnavailable, p.BearerChallenge("", ""),
			provider.CodeTemporarilyUnavailable, "the service is temporarily unavailable, try again later")
		plainHTTP  = bearerFailure(p, http.StatusBadRequest, provider.CodeInvalidRequest, "HTTPS is required")
		tokenInURL = bearerFailure(p, http.StatusBadRequest, provider.CodeInvalidRequest, "an access token must not be sent in the URL")
	)
	realm := p.Realm()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !p.SecureEnough(r) {
				plainHTTP.write(w)
				return
			}
			raw, cred := bearerCandidate(r.Header["Authorization"])
			switch cred {
			case credNone:
				noCredentials.write(w)
				return
			case credMalformed:
				malformed.write(w)
				return
			}
			// A token in the URL too: two methods at once (RFC 6750 §3.1),
			// and one of them leaves the token in access logs and history.
			if r.URL.RawQuery != "" && query.Names(r.URL.RawQuery, "access_token") {
				tokenInURL.write(w)
				return
			}
			// The store fills a pooled TokenInfo; one allocation holds the
			// context node and the Identity, whose scopes are the store's
			// own, shared read-only (Identity.Scopes is documented
			// read-only).
			ti := tokenInfos.Get().(*storage.TokenInfo)
			err := p.ValidateAccessTokenInto(r, raw, ti)
			if err != nil {
				*ti = storage.TokenInfo{}
				tokenInfos.Put(ti)
				switch {
				case errors.Is(err, provider.ErrInvalidToken) && !isB64Token(raw):
					malformed.write(w)
				case errors.Is(err, provider.ErrInvalidToken):
					invalidToken.write(w)
				default:
					p.LogOutage(r, err)
					w.Header()["Retry-After"] = []string{"1"}
					unavailable.write(w)
				}
				return
			}
			ctx := &identityCtx{Context: r.Context(), id: Identity{
				UserID:   ti.Grant.UserID,
				ClientID: ti.Grant.ClientID,
				GrantID:  ti.Grant.ID,
				Scopes:   ti.EffectiveScopes(),
				Method:   MethodBearer,
			}, realm: &realm}
			*ti = storage.TokenInfo{}
			tokenInfos.Put(ti)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// bearerFailure is the answer status with error code and description,
// and a Bearer challenge that carries them (RFC 6750 §3).
func bearerFailure(p *provider.Provider, status int, code, desc string) failure {
	return newFailure(status, p.BearerChallenge(code, desc), code, desc)
}
