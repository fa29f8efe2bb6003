package policy_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// SignedInUser tells nobody signed in ("", nil) from a store it cannot
// read (an error); CurrentUser folds both into false.
func TestSignedInUser(t *testing.T) {
	get := func(e *sessEnv, o reqOpts) (string, error) {
		return e.s.SignedInUser(o.build(http.MethodGet, "/oauth2/authorize", nil))
	}
	nobody := func(t *testing.T, e *sessEnv, o reqOpts) {
		t.Helper()
		id, err := get(e, o)
		assert.NoError(t, err)
		assert.Empty(t, id)
		_, ok := e.s.CurrentUser(o.build(http.MethodGet, "/oauth2/authorize", nil))
		assert.False(t, ok)
	}

	t.Run("live session: its user", func(t *testing.T) {
		e := newSessEnv(t, sessOpts{})
		cookie := e.login(t, reqOpts{})
		id, err := get(e, reqOpts{cookie: cookie})
		require.NoError(t, err)
		assert.Equal(t, "user-johndoe", id)
		id, ok := e.s.CurrentUser(reqOpts{cookie: cookie}.build(http.MethodGet, "/oauth2/authorize", nil))
		assert.True(t, ok)
		assert.Equal(t, "user-johndoe", id)
	})
	t.Run("no cookie: nobody", func(t *testing.T) {
		nobody(t, newSessEnv(t, sessOpts{}), reqOpts{})
	})
	t.Run("malformed session: nobody", func(t *testing.T) {
		nobody(t, newSessEnv(t, sessOpts{}), reqOpts{cookie: "__Host-session=ost_bogus"})
	})
	t.Run("unknown session: nobody", func(t *testing.T) {
		other := newSessEnv(t, sessOpts{}).login(t, reqOpts{}) // well formed, in another store
		nobody(t, newSessEnv(t, sessOpts{}), reqOpts{cookie: other})
	})
	t.Run("expired session: nobody", func(t *testing.T) {
		e := newSessEnv(t, sessOpts{})
		cookie := e.login(t, reqOpts{})
		e.now = e.now.Add(policy.DefaultSessionTTL)
		nobody(t, e, reqOpts{cookie: cookie})
	})
	t.Run("ended session: nobody", func(t *testing.T) {
		e := newSessEnv(t, sessOpts{})
		cookie := e.login(t, reqOpts{})
		w := serve(e.s.LogoutHandler(), reqOpts{cookie: cookie, site: "same-origin"}.build(http.MethodPost, "/logout", nil))
		require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
		nobody(t, e, reqOpts{cookie: cookie})
	})
	t.Run("binding mismatch: nobody, and the session ends", func(t *testing.T) {
		e := newSessEnv(t, sessOpts{bind: true})
		cookie := e.login(t, reqOpts{})
		nobody(t, e, reqOpts{cookie: cookie, ua: "curl/8"})
		nobody(t, e, reqOpts{cookie: cookie})
	})
	t.Run("binding mismatch whose revocation fails: still nobody", func(t *testing.T) {
		// The lookup worked and the token is not the caller's: whether
		// the store then managed to end the session, nobody is signed in
		// on this request, and it is no outage.
		e := newSessEnv(t, sessOpts{bind: true})
		cookie := e.login(t, reqOpts{})
		e.store.revokeDown.Store(true)
		nobody(t, e, reqOpts{cookie: cookie, ua: "curl/8"})
	})
	t.Run("store outage: an error", func(t *testing.T) {
		e := newSessEnv(t, sessOpts{})
		cookie := e.login(t, reqOpts{})
		e.store.down.Store(true)
		id, err := get(e, reqOpts{cookie: cookie})
		assert.Empty(t, id)
		require.Error(t, err)
		assert.ErrorContains(t, err, "redis: i/o timeout")
		assert.NotErrorIs(t, err, provider.ErrInvalidToken)
		_, ok := e.s.CurrentUser(reqOpts{cookie: cookie}.build(http.MethodGet, "/oauth2/authorize", nil))
		assert.False(t, ok, "CurrentUser cannot tell: false")

		e.store.down.Store(false)
		id, err = get(e, reqOpts{cookie: cookie})
		require.NoError(t, err)
		assert.Equal(t, "user-johndoe", id, "the outage ended nothing")
	})
	t.Run("store outage without a cookie: nobody, no lookup", func(t *testing.T) {
		e := newSessEnv(t, sessOpts{})
		e.store.down.Store(true)
		nobody(t, e, reqOpts{})
	})
}

// spaAuthorizeHandler registers the first-party public client "spa" in
// e's store and returns the authorization endpoint, wired to
// Sessions.SignedInUser.
func spaAuthorizeHandler(t *testing.T, e *sessEnv) http.Handler {
	t.Helper()
	require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{
		ID: "spa", Public: true, FirstParty: true, GrantTypes: []string{storage.GrantAuthorizationCode},
		Scopes: []string{"read"}, RedirectURIs: []string{"https://spa.example/cb"},
	}))
	az, err := e.p.AuthorizeHandler(provider.AuthorizeConfig{SignedInUser: e.s.SignedInUser, LoginURL: "/login"})
	require.NoError(t, err)
	return az
}

// spaParams is an authorization request of "spa" with state.
func spaParams(state string) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {"https://spa.example/cb"},
		"scope": {"read"}, "state": {state}, "code_challenge_method": {"S256"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
	}
}

// The authorization endpoint wired to Sessions.SignedInUser: a session
// store outage is temporarily_unavailable at the client, not the login page.
func TestSignedInUserAtTheAuthorizationEndpoint(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	az := spaAuthorizeHandler(t, e)
	params := spaParams("xyz")
	authorize := func(cookie string) *http.Response {
		return serve(az, reqOpts{cookie: cookie}.build(http.MethodGet, "/oauth2/authorize?"+params.Encode(), nil)).Result()
	}
	cookie := e.login(t, reqOpts{})

	resp := authorize(cookie)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "https://spa.example/cb", loc.Scheme+"://"+loc.Host+loc.Path)
	assert.NotEmpty(t, loc.Query().Get("code"), "signed in: a code")

	e.store.down.Store(true)
	resp = authorize(cookie)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, "https://spa.example/cb?error=temporarily_unavailable&error_description=the+service+is+temporarily+unavailable%2C+try+again+later&state=xyz",
		resp.Header.Get("Location"), "an outage is reported as one")
	e.store.down.Store(false)

	resp = authorize("")
	require.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, "/login?return_to="+url.QueryEscape("/oauth2/authorize?"+params.Encode()), resp.Header.Get("Location"))

	resp = authorize(cookie)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	assert.NotContains(t, resp.Header.Get("Location"), "error", "the outage ended no session")

	// With CurrentUser, as documented, the same outage looks like nobody
	// signed in.
	old, err := e.p.AuthorizeHandler(provider.AuthorizeConfig{CurrentUser: e.s.CurrentUser, LoginURL: "/login"})
	require.NoError(t, err)
	e.store.down.Store(true)
	w := serve(old, reqOpts{cookie: cookie}.build(http.MethodGet, "/oauth2/authorize?"+params.Encode(), nil))
	require.Equal(t, http.StatusFound, w.Code)
	assert.Contains(t, w.Header().Get("Location"), "/login?return_to=")
}

// A session cookie that came over plain HTTP, where the provider does not
// allow it, signs nobody in: SignedInUser and CurrentUser refuse it as the
// Cookie policy does, and nothing is looked up.
func TestSignedInUserRequiresHTTPS(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	cookie := e.login(t, reqOpts{})
	id, err := e.s.SignedInUser(reqOpts{cookie: cookie}.build(http.MethodGet, "/oauth2/authorize", nil))
	require.NoError(t, err)
	require.NotEmpty(t, id, "over HTTPS the user is signed in")

	r := reqOpts{cookie: cookie, plain: true}.build(http.MethodGet, "/oauth2/authorize", nil)
	id, err = e.s.SignedInUser(r)
	require.NoError(t, err)
	assert.Empty(t, id, "over plain HTTP nobody is")
	_, ok := e.s.CurrentUser(r)
	assert.False(t, ok)
}

// The login round trip of the authorization endpoint: a visitor without a
// session is sent to the login page with the authorization request as
// return_to, and the login handler sends the browser back there. The
// endpoint takes requests up to provider.Config.MaxRequestBytes, so the
// login handler must take every return_to the endpoint makes, not only
// those under some smaller length: a client whose state is a couple of KB
// (a signed or encrypted state) would otherwise leave its user stuck on a
// 400 after signing in.
func TestLoginReturnsToALongAuthorizationRequest(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	az := spaAuthorizeHandler(t, e)
	for _, n := range []int{16, 2048, 8 << 10} {
		state := strings.Repeat("s", n)
		params := spaParams(state)
		w := serve(az, reqOpts{}.build(http.MethodGet, "/oauth2/authorize?"+params.Encode(), nil))
		require.Equal(t, http.StatusFound, w.Code, "state of %d bytes", n)
		loc, err := url.Parse(w.Header().Get("Location"))
		require.NoError(t, err)
		require.Equal(t, "/login", loc.Path)
		returnTo := loc.Query().Get("return_to")

		w = serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42", "return_to", returnTo)))
		require.Equal(t, http.StatusSeeOther, w.Code, "state of %d bytes: %s", n, w.Body.String())
		require.Equal(t, returnTo, w.Header().Get("Location"))
		cookies := w.Result().Cookies()
		require.Len(t, cookies, 1)

		w = serve(az, reqOpts{cookie: cookies[0].Name + "=" + cookies[0].Value}.build(http.MethodGet, returnTo, nil))
		require.Equal(t, http.StatusFound, w.Code, "state of %d bytes", n)
		back, err := url.Parse(w.Header().Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, "https://spa.example/cb", back.Scheme+"://"+back.Host+back.Path)
		assert.NotEmpty(t, back.Query().Get("code"), "state of %d bytes", n)
		assert.Equal(t, state, back.Query().Get("state"))
	}
}
