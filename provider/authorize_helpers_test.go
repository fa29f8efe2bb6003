package provider_test

import (
	"context"
	"crypto/tls"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// The PKCE example of RFC 7636 Appendix B.
const (
	testVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	testChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// userCookie names the test session cookie: its value is the user ID.
const userCookie = "test_user"

// azEnv is a provider with an authorization endpoint and clients of the
// authorization code grant.
type azEnv struct {
	*env
	az http.Handler
}

func newAuthzEnv(t testing.TB, mutateP func(*provider.Config), mutate func(*provider.AuthorizeConfig)) *azEnv {
	t.Helper()
	e := newEnv(t, mutateP)
	code := []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken}
	for _, c := range []storage.Client{
		{ID: "spa", Public: true, GrantTypes: code, Scopes: []string{"read", "write"},
			RedirectURIs: []string{"https://spa.example/cb", "https://spa.example/cb2?keep=1", "http://127.0.0.1/callback", "http://[::1]:8000/cb"}},
		{ID: "web", SecretHash: storage.HashGeneratedSecret(confSecret), GrantTypes: code, Scopes: []string{"read", "write"},
			RedirectURIs: []string{"https://web.example/cb"}},
		{ID: "first", Public: true, FirstParty: true, GrantTypes: code, Scopes: []string{"read", "write"},
			RedirectURIs: []string{"https://first.example/cb"}},
		{ID: "first-native", Public: true, FirstParty: true, GrantTypes: code, Scopes: []string{"read"},
			RedirectURIs: []string{"http://127.0.0.1/callback", "https://first.example/native", "https://localhost:8443/cb", "https://app.localhost/cb"}},
		{ID: "first-conf", SecretHash: storage.HashGeneratedSecret(confSecret), FirstParty: true, GrantTypes: code,
			Scopes: []string{"read"}, RedirectURIs: []string{"http://127.0.0.1/callback"}},
		{ID: "no-code", Public: true, GrantTypes: []string{storage.GrantPassword}, RedirectURIs: []string{"https://nocode.example/cb"}},
		{ID: "code-only", Public: true, GrantTypes: []string{storage.GrantAuthorizationCode}, Scopes: []string{"read"},
			FirstParty: true, RedirectURIs: []string{"https://codeonly.example/cb"}},
		{ID: "no-redirect", Public: true, GrantTypes: code},
		{ID: "off", Public: true, Disabled: true, GrantTypes: code, RedirectURIs: []string{"https://off.example/cb"}},
	} {
		require.NoError(t, e.store.CreateClient(context.Background(), &c))
	}
	cfg := provider.AuthorizeConfig{
		CurrentUser: func(r *http.Request) (string, bool) {
			c, err := r.Cookie(userCookie)
			if err != nil {
				return "", false
			}
			return c.Value, true
		},
		LoginURL: "/login",
	}
	if mutate != nil {
		mutate(&cfg)
	}
	az, err := e.p.AuthorizeHandler(cfg)
	require.NoError(t, err)
	return &azEnv{env: e, az: az}
}

// spaParams is a valid authorization request of the public client spa.
func spaParams(kv ...string) url.Values {
	v := url.Values{
		"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {"https://spa.example/cb"},
		"scope": {"read"}, "state": {"st-123"}, "code_challenge": {testChallenge}, "code_challenge_method": {"S256"},
	}
	return with(v, kv...)
}

// azReq is a request to the authorization endpoint.
type azReq struct {
	method string // "" means GET
	query  string // raw query of a GET
	form   url.Values
	user   string // signed-in user; "" means none
	header http.Header
	plain  bool
}

func (e *azEnv) authorize(rq azReq) *httptest.ResponseRecorder {
	method := rq.method
	if method == "" {
		method = http.MethodGet
	}
	target := "https://auth.example.com/oauth2/authorize"
	if rq.query != "" {
		target += "?" + rq.query
	}
	var r *http.Request
	if method == http.MethodPost {
		r = httptest.NewRequest(method, target, strings.NewReader(rq.form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	if rq.plain {
		r.TLS = nil
	} else {
		r.TLS = &tls.ConnectionState{}
	}
	if rq.user != "" {
		r.AddCookie(&http.Cookie{Name: userCookie, Value: rq.user})
	}
	for k, vs := range rq.header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	w := httptest.NewRecorder()
	e.az.ServeHTTP(w, r)
	return w
}

// get sends a GET authorization request with params for user.
func (e *azEnv) get(params url.Values, user string) *httptest.ResponseRecorder {
	return e.authorize(azReq{query: params.Encode(), user: user})
}

// assertErrorPage checks the HTML error page shown instead of a redirect.
func assertErrorPage(t testing.TB, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	assert.Equal(t, status, w.Code, "body: %s", w.Body.String())
	assert.Empty(t, w.Header().Get("Location"), "an untrusted request is never redirected")
	assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Equal(t, "DENY", w.Header().Get("X-Frame-Options"))
	assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	assert.Contains(t, w.Body.String(), `<code id="code">`+code+`</code>`)
}

// redirected checks a redirect to the client at base and returns its query.
func redirected(t testing.TB, w *httptest.ResponseRecorder, status int, base string) url.Values {
	t.Helper()
	require.Equal(t, status, w.Code, "body: %s", w.Body.String())
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	loc, err := url.Parse(w.Header().Get("Location"))
	require.NoError(t, err)
	got := *loc
	got.RawQuery = ""
	assert.Equal(t, base, got.String(), "redirect target")
	assert.Empty(t, loc.Fragment)
	return loc.Query()
}

// assertRedirectError checks an error sent back to the client (RFC 6749
// §4.1.2.1).
func assertRedirectError(t testing.TB, w *httptest.ResponseRecorder, base, code, state string) url.Values {
	t.Helper()
	q := redirected(t, w, http.StatusFound, base)
	assert.Equal(t, code, q.Get("error"))
	assert.NotEmpty(t, q.Get("error_description"))
	assert.Equal(t, state, q.Get("state"))
	assert.Empty(t, q.Get("code"))
	return q
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// consentFields returns the hidden inputs of a consent page.
func consentFields(t testing.TB, w *httptest.ResponseRecorder) url.Values {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body.String())
	assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(w.Body.String(), -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	require.NotEmpty(t, v.Get("consent_token"), "consent form token: %s", w.Body.String())
	return v
}

// decide posts the consent form with a decision, as a same-origin browser.
func (e *azEnv) decide(fields url.Values, user, decision string) *httptest.ResponseRecorder {
	f := url.Values{}
	for k, vs := range fields {
		f[k] = append([]string(nil), vs...)
	}
	f.Set("decision", decision)
	return e.authorize(azReq{method: http.MethodPost, form: f, user: user,
		header: http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {"https://auth.example.com"}}})
}

// code runs the authorization request params for user through consent
// (when shown) and returns the code.
func (e *azEnv) code(t testing.TB, params url.Values, user string) string {
	t.Helper()
	w := e.get(params, user)
	if w.Code == http.StatusOK {
		w = e.decide(consentFields(t, w), user, "allow")
		require.Equal(t, http.StatusSeeOther, w.Code, "body: %s", w.Body.String())
	} else {
		require.Equal(t, http.StatusFound, w.Code, "body: %s", w.Body.String())
	}
	loc, err := url.Parse(w.Header().Get("Location"))
	require.NoError(t, err)
	c := loc.Query().Get("code")
	require.NotEmpty(t, c, "no code in %s", loc)
	return c
}

// exchange returns a token request form for code.
func exchange(code string, kv ...string) url.Values {
	v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"spa"},
		"redirect_uri": {"https://spa.example/cb"}, "code_verifier": {testVerifier}}
	return with(v, kv...)
}

// readInto reads a response body into b.
func readInto(b *strings.Builder, resp *http.Response) (int64, error) { return io.Copy(b, resp.Body) }

// htmlUnescape undoes HTML attribute escaping.
func htmlUnescape(s string) string { return html.UnescapeString(s) }
