package provider_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// Branches of the authorization endpoint that no other test asserted,
// each found by a mutant that survived the package's tests.

// A negative ConsentTTL is a configuration error, not a form that is
// expired as soon as it is shown (mutation survivor: the check dropped).
func TestAuthorizeNegativeConsentTTLRefused(t *testing.T) {
	e := newEnv(t, nil)
	h, err := e.p.AuthorizeHandler(provider.AuthorizeConfig{
		CurrentUser: func(*http.Request) (string, bool) { return "", false },
		LoginURL:    "/login", ConsentTTL: -time.Second,
	})
	assert.EqualError(t, err, "provider: invalid authorize config\nnegative AuthorizeConfig.ConsentTTL")
	assert.Nil(t, h)
}

// A zero ConsentTTL means 10 minutes, as documented: a form posted just
// before then is accepted, one posted at 10 minutes is not (mutation
// survivor: another default).
func TestAuthorizeDefaultConsentTTL(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	fields := consentFields(t, e.get(spaParams(), "user-1"))
	e.clock.Advance(10*time.Minute - time.Second)
	q := redirected(t, e.decide(fields, "user-1", "allow"), http.StatusSeeOther, "https://spa.example/cb")
	assert.NotEmpty(t, q.Get("code"))

	fields = consentFields(t, e.get(spaParams(), "user-1"))
	e.clock.Advance(10 * time.Minute)
	assertErrorPage(t, e.decide(fields, "user-1", "allow"), http.StatusForbidden, "access_denied")
}

// A browser reads the ideographic full stop U+3002 in a host as a dot
// (UTS #46): a first-party public client whose https redirect URI names
// another machine with it skips consent as with ASCII dots (mutation
// survivor: U+3002 left as it is, which made the host one label). The
// URI holds it percent-encoded, as a URI must (RFC 3986 §2; net/url
// decodes it in the host).
func TestAuthorizeFirstPartyIdeographicFullStopHost(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	const cb = "https://first%E3%80%82example/cb"
	require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{
		ID: "first-ideo", Public: true, FirstParty: true, Scopes: []string{"read"},
		GrantTypes: []string{storage.GrantAuthorizationCode}, RedirectURIs: []string{cb},
	}))
	w := e.get(spaParams("client_id", "first-ideo", "redirect_uri", cb), "user-1")
	require.Equal(t, http.StatusFound, w.Code, "body: %s", w.Body.String())
	loc := w.Header().Get("Location")
	require.True(t, strings.HasPrefix(loc, cb+"?"), loc)
	q, err := url.ParseQuery(strings.TrimPrefix(loc, cb+"?"))
	require.NoError(t, err)
	assert.NotEmpty(t, q.Get("code"))
	assert.Equal(t, "st-123", q.Get("state"))
}

// A POST authorization request is bounded by Config.MaxRequestBytes as
// a GET is: a body of exactly that size is served, one byte more is 413
// on the error page (mutation survivor: any status).
func TestAuthorizeBodyAtMaxRequestBytes(t *testing.T) {
	const limit = 4096
	e := newAuthzEnv(t, func(c *provider.Config) { c.MaxRequestBytes = limit }, nil)
	pad := limit - len(spaParams("state", "s").Encode()) + 1
	at := spaParams("state", strings.Repeat("s", pad))
	require.Len(t, at.Encode(), limit)
	w := e.authorize(azReq{method: http.MethodPost, form: at})
	assert.Equal(t, http.StatusSeeOther, w.Code, "a %d-byte body: %s", limit, w.Body.String())
	assert.True(t, strings.HasPrefix(w.Header().Get("Location"), "/login?"), w.Header().Get("Location"))

	w = e.authorize(azReq{method: http.MethodPost, form: spaParams("state", strings.Repeat("s", pad+1))})
	assertErrorPage(t, w, http.StatusRequestEntityTooLarge, "invalid_request")
	assert.Contains(t, w.Body.String(), "request body too large")
}

// RFC 8252 §7.3 lets a loopback redirect URI change its port only: the
// authority ends at the query as well as at the path, so a registered
// URI without a path matches with another port and the same query
// (mutation survivor: the authority ran to the first "/").
func TestAuthorizeLoopbackAnyPortWithoutPath(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{
		ID: "loop-q", Public: true, Scopes: []string{"read"},
		GrantTypes: []string{storage.GrantAuthorizationCode}, RedirectURIs: []string{"http://127.0.0.1?app=1"},
	}))
	const uri = "http://127.0.0.1:5000?app=1"
	fields := consentFields(t, e.get(spaParams("client_id", "loop-q", "redirect_uri", uri), "user-1"))
	assert.Equal(t, uri, fields.Get("redirect_uri"))
	q := redirected(t, e.decide(fields, "user-1", "allow"), http.StatusSeeOther, "http://127.0.0.1:5000")
	assert.Equal(t, "1", q.Get("app"))
	assert.NotEmpty(t, q.Get("code"))

	assertErrorPage(t, e.get(spaParams("client_id", "loop-q", "redirect_uri", "http://127.0.0.1:5000?app=2"), "user-1"), http.StatusBadRequest, "invalid_request")
}

// A redirect_uri that is only the start of "http://" is an unregistered
// URI like any other: an error page, not a panic (mutation survivor: the
// loopback rule read past the end of such a string).
func TestAuthorizeShortRedirectURI(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	for _, uri := range []string{"h", "http", "http:/", "https:"} {
		w := e.get(spaParams("redirect_uri", uri), "user-1")
		assertErrorPage(t, w, http.StatusBadRequest, "invalid_request")
		assert.Contains(t, w.Body.String(), "redirect_uri is not registered for this client", uri)
	}
}

// The login redirect's return-to URL is local whatever path the request
// came on: under a router that does not clean paths, a request for
// "//evil.example/x" would otherwise send the login page a return-to that
// a browser reads as https://evil.example/x, an open redirect after
// sign-in (mutation survivor: the raw path used).
func TestAuthorizeLoginReturnToStaysOnSite(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	params := spaParams()
	for path, want := range map[string]string{
		"/oauth2/authorize": "/oauth2/authorize?",
		"//evil.example/x":  "/?",
		"/a b/authorize":    "/a%20b/authorize?",
	} {
		r := httptest.NewRequest(http.MethodGet, "https://auth.example.com/oauth2/authorize?"+params.Encode(), nil)
		r.URL.Path, r.URL.RawPath = path, ""
		r.TLS = &tls.ConnectionState{}
		w := httptest.NewRecorder()
		e.az.ServeHTTP(w, r)
		require.Equal(t, http.StatusFound, w.Code, "%s: %s", path, w.Body.String())
		assert.Equal(t, "/login?return_to="+url.QueryEscape(want+params.Encode()), w.Header().Get("Location"), path)
	}
}

// ReturnToParam is a query parameter name, escaped as one in the login
// redirect (mutation survivor: written as it is, a name holding "&" or
// "=" split the login URL's query).
func TestAuthorizeReturnToParamIsEscaped(t *testing.T) {
	e := newAuthzEnv(t, nil, func(c *provider.AuthorizeConfig) { c.ReturnToParam = "back to&x=" })
	params := spaParams()
	w := e.get(params, "")
	require.Equal(t, http.StatusFound, w.Code)
	loc := w.Header().Get("Location")
	assert.Equal(t, "/login?back+to%26x%3D="+url.QueryEscape("/oauth2/authorize?"+params.Encode()), loc)
	u, err := url.Parse(loc)
	require.NoError(t, err)
	assert.Equal(t, []string{"/oauth2/authorize?" + params.Encode()}, u.Query()["back to&x="])
}

// A consent token is read in its one canonical form: another spelling of
// the same bytes (the unused low bits of its last character set) is
// refused with the 403 page (mutation survivor: the strict decoding
// dropped).
func TestAuthorizeConsentTokenIsCanonical(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	fields := consentFields(t, e.get(spaParams(), "user-1"))
	tok := fields.Get("consent_token")
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	fields.Set("consent_token", tok[:len(tok)-1]+string(alphabet[last|1]))
	if last&1 == 1 {
		fields.Set("consent_token", tok[:len(tok)-1]+string(alphabet[last&^1|2]))
	}
	assertErrorPage(t, e.decide(fields, "user-1", "allow"), http.StatusForbidden, "access_denied")

	fields.Set("consent_token", tok)
	q := redirected(t, e.decide(fields, "user-1", "allow"), http.StatusSeeOther, "https://spa.example/cb")
	assert.NotEmpty(t, q.Get("code"))
}
