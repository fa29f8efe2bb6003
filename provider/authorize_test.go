package provider_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

func TestAuthorizeConfigValidation(t *testing.T) {
	e := newEnv(t, nil)
	cur := func(*http.Request) (string, bool) { return "", false }
	signedIn := func(*http.Request) (string, error) { return "", nil }
	for name, cfg := range map[string]provider.AuthorizeConfig{
		"neither SignedInUser nor CurrentUser": {LoginURL: "/login"},
		"both SignedInUser and CurrentUser":    {SignedInUser: signedIn, CurrentUser: cur, LoginURL: "/login"},
		"missing LoginURL":                     {CurrentUser: cur},
		"LoginURL with fragment":               {CurrentUser: cur, LoginURL: "/login#x"},
		"CodeTTL above 60 s":                   {CurrentUser: cur, LoginURL: "/login", CodeTTL: 61 * time.Second},
		"negative CodeTTL":                     {CurrentUser: cur, LoginURL: "/login", CodeTTL: -time.Second},
		"CodeTTL below 1 s":                    {CurrentUser: cur, LoginURL: "/login", CodeTTL: 999 * time.Millisecond},
		"short ConsentKey":                     {CurrentUser: cur, LoginURL: "/login", ConsentKey: []byte("short")},
		"31-byte ConsentKey":                   {CurrentUser: cur, LoginURL: "/login", ConsentKey: make([]byte, 31)},
	} {
		t.Run(name, func(t *testing.T) {
			h, err := e.p.AuthorizeHandler(cfg)
			assert.Error(t, err)
			assert.Nil(t, h)
		})
	}
	h, err := e.p.AuthorizeHandler(provider.AuthorizeConfig{CurrentUser: cur, LoginURL: "/login"})
	require.NoError(t, err)
	assert.NotNil(t, h)
	h, err = e.p.AuthorizeHandler(provider.AuthorizeConfig{SignedInUser: signedIn, LoginURL: "/login"})
	require.NoError(t, err)
	assert.NotNil(t, h)

	_, err = e.p.AuthorizeHandler(provider.AuthorizeConfig{LoginURL: "/login"})
	assert.EqualError(t, err, "provider: invalid authorize config\nmissing AuthorizeConfig.SignedInUser (or CurrentUser)")
	_, err = e.p.AuthorizeHandler(provider.AuthorizeConfig{SignedInUser: signedIn, CurrentUser: cur, LoginURL: "/login"})
	assert.EqualError(t, err, "provider: invalid authorize config\nAuthorizeConfig.SignedInUser and CurrentUser are both set: set one")
}

// Before the client and redirect URI are trusted, errors are an HTML page,
// never a redirect (RFC 6749 §3.1.2.4, §4.1.2.1).
func TestAuthorizeUntrustedErrorsShowPage(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	cases := []struct {
		name   string
		query  string
		status int
		code   string
	}{
		{"missing client_id", spaParams("client_id", "").Encode(), 400, "invalid_request"},
		{"unknown client", spaParams("client_id", "nobody").Encode(), 400, "invalid_request"},
		{"disabled client", spaParams("client_id", "off", "redirect_uri", "https://off.example/cb").Encode(), 400, "invalid_request"},
		{"unregistered redirect_uri", spaParams("redirect_uri", "https://evil.example/cb").Encode(), 400, "invalid_request"},
		{"redirect_uri is exact: no longer path", spaParams("redirect_uri", "https://spa.example/cb/x").Encode(), 400, "invalid_request"},
		{"redirect_uri is exact: no added query", spaParams("redirect_uri", "https://spa.example/cb?a=1").Encode(), 400, "invalid_request"},
		{"redirect_uri is exact: no fragment", spaParams("redirect_uri", "https://spa.example/cb#f").Encode(), 400, "invalid_request"},
		{"redirect_uri is exact: case matters", spaParams("redirect_uri", "https://SPA.example/cb").Encode(), 400, "invalid_request"},
		{"loopback any port needs the same host", spaParams("redirect_uri", "http://localhost:5000/callback").Encode(), 400, "invalid_request"},
		{"loopback any port needs the same path", spaParams("redirect_uri", "http://127.0.0.1:5000/other").Encode(), 400, "invalid_request"},
		{"loopback any port is http only", spaParams("redirect_uri", "https://127.0.0.1:5000/callback").Encode(), 400, "invalid_request"},
		{"loopback with user info", spaParams("redirect_uri", "http://x@127.0.0.1:5000/callback").Encode(), 400, "invalid_request"},
		{"missing redirect_uri with several registered", spaParams("redirect_uri", "").Encode(), 400, "invalid_request"},
		{"client without redirect URIs", spaParams("client_id", "no-redirect", "redirect_uri", "").Encode(), 400, "invalid_request"},
		{"repeated client_id", spaParams().Encode() + "&client_id=spa", 400, "invalid_request"},
		{"repeated redirect_uri", spaParams().Encode() + "&redirect_uri=https%3A%2F%2Fspa.example%2Fcb", 400, "invalid_request"},
		// With one registered URI, a request without redirect_uri goes there:
		// a repeated one must not be taken for a missing one and trusted
		// (mutation survivor: redirect_uri dropped from readParams' check).
		{"repeated redirect_uri, one registered", "response_type=code&client_id=web&redirect_uri=https%3A%2F%2Fweb.example%2Fcb&redirect_uri=https%3A%2F%2Fevil.example%2Fcb", 400, "invalid_request"},
		{"malformed query", "client_id=spa&x=%zz", 400, "invalid_request"},
		// docs/security.md: secrets and tokens in the URL query are refused.
		{"a client_secret in the URL", spaParams("client_id", "web", "redirect_uri", "https://web.example/cb", "client_secret", confSecret).Encode(), 400, "invalid_request"},
		{"a code_verifier in the URL (it would defeat PKCE)", spaParams("code_verifier", testVerifier).Encode(), 400, "invalid_request"},
		{"a password in the URL", spaParams("password", "foobar42").Encode(), 400, "invalid_request"},
		{"a refresh token in the URL, escaped key", spaParams().Encode() + "&refresh%5Ftoken=ort_x", 400, "invalid_request"},
		{"an access token in the URL", spaParams("access_token", "oat_x").Encode(), 400, "invalid_request"},
		{"a token in the URL (revocation's and introspection's name for it)", spaParams("token", "oat_x").Encode(), 400, "invalid_request"},
		{"an authorization code in the URL", spaParams("code", "oac_x").Encode(), 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.authorize(azReq{query: c.query, user: "user-1"})
			assertErrorPage(t, w, c.status, c.code)
		})
	}

	t.Run("HTTPS is required", func(t *testing.T) {
		w := e.authorize(azReq{query: spaParams().Encode(), user: "user-1", plain: true})
		assertErrorPage(t, w, 400, "invalid_request")
	})
	t.Run("GET and POST only", func(t *testing.T) {
		w := e.authorize(azReq{method: http.MethodPut, query: spaParams().Encode()})
		assertErrorPage(t, w, 405, "invalid_request")
		assert.Equal(t, "GET, POST", w.Header().Get("Allow"))
	})
	t.Run("client store outage is 503", func(t *testing.T) {
		e.store.setFail(errors.New("db down"))
		defer e.store.setFail(nil)
		w := e.get(spaParams(), "user-1")
		assertErrorPage(t, w, 503, "temporarily_unavailable")
		assert.NotContains(t, w.Body.String(), "db down")
	})
	t.Run("page escapes what it shows", func(t *testing.T) {
		w := e.get(spaParams("client_id", "<script>"), "user-1")
		assertErrorPage(t, w, 400, "invalid_request")
		assert.NotContains(t, w.Body.String(), "<script>")
	})
}

// Once the redirect URI is trusted, errors go back to the client with
// error, error_description and state (RFC 6749 §4.1.2.1).
func TestAuthorizeTrustedErrorsRedirect(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	const spaCB = "https://spa.example/cb"
	cases := []struct {
		name   string
		params url.Values
		base   string
		code   string
	}{
		{"missing response_type", spaParams("response_type", ""), spaCB, "invalid_request"},
		{"response_type token is unsupported", spaParams("response_type", "token"), spaCB, "unsupported_response_type"},
		{"response_type code id_token is unsupported", spaParams("response_type", "code id_token"), spaCB, "unsupported_response_type"},
		{"client may not use the code grant", spaParams("client_id", "no-code", "redirect_uri", "https://nocode.example/cb"), "https://nocode.example/cb", "unauthorized_client"},
		{"unknown scope", spaParams("scope", "read nope"), spaCB, "invalid_scope"},
		{"scope not allowed for the client", spaParams("scope", "admin"), spaCB, "invalid_scope"},
		{"public client must send a code_challenge", spaParams("code_challenge", "", "code_challenge_method", ""), spaCB, "invalid_request"},
		{"public client may not use plain", spaParams("code_challenge", testVerifier, "code_challenge_method", "plain"), spaCB, "invalid_request"},
		{"absent method means plain, refused", spaParams("code_challenge_method", ""), spaCB, "invalid_request"},
		{"unknown code_challenge_method", spaParams("code_challenge_method", "S512"), spaCB, "invalid_request"},
		{"malformed S256 challenge", spaParams("code_challenge", "short"), spaCB, "invalid_request"},
		{"S256 challenge is base64url", spaParams("code_challenge", strings.Repeat("+", 43)), spaCB, "invalid_request"},
		{"method without challenge", spaParams("code_challenge", ""), spaCB, "invalid_request"},
		{"confidential client: method without challenge", spaParams("client_id", "web", "redirect_uri", "", "code_challenge", ""), "https://web.example/cb", "invalid_request"},
		{"confidential client: plain refused by default", spaParams("client_id", "web", "redirect_uri", "", "code_challenge", testVerifier, "code_challenge_method", "plain"), "https://web.example/cb", "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.get(c.params, "user-1")
			assertRedirectError(t, w, c.base, c.code, "st-123")
		})
	}
	t.Run("repeated state", func(t *testing.T) {
		w := e.authorize(azReq{query: spaParams().Encode() + "&state=other", user: "user-1"})
		assertRedirectError(t, w, spaCB, "invalid_request", "st-123")
	})
	t.Run("repeated scope", func(t *testing.T) {
		w := e.authorize(azReq{query: spaParams().Encode() + "&scope=write", user: "user-1"})
		assertRedirectError(t, w, spaCB, "invalid_request", "st-123")
	})
	t.Run("a parameter without a value is omitted, not repeated", func(t *testing.T) {
		// RFC 6749 §3.1, as at the token endpoint.
		want := e.authorize(azReq{query: spaParams().Encode(), user: "user-1"})
		for _, extra := range []string{"&client_id=", "&redirect_uri=", "&state=", "&scope=", "&response_mode=", "&code_challenge="} {
			w := e.authorize(azReq{query: spaParams().Encode() + extra, user: "user-1"})
			assert.Equal(t, want.Code, w.Code, "%s: %s", extra, w.Body)
			assert.NotContains(t, w.Header().Get("Location"), "error=", extra)
		}
	})
	t.Run("no state, none echoed", func(t *testing.T) {
		w := e.get(spaParams("state", "", "response_type", "token"), "user-1")
		q := assertRedirectError(t, w, spaCB, "unsupported_response_type", "")
		assert.NotContains(t, q, "state")
	})
	t.Run("errors are checked before the session", func(t *testing.T) {
		w := e.get(spaParams("response_type", "token"), "")
		assertRedirectError(t, w, spaCB, "unsupported_response_type", "st-123")
	})
	t.Run("registered query is kept", func(t *testing.T) {
		w := e.get(spaParams("redirect_uri", "https://spa.example/cb2?keep=1", "response_type", "token"), "user-1")
		q := assertRedirectError(t, w, "https://spa.example/cb2", "unsupported_response_type", "st-123")
		assert.Equal(t, "1", q.Get("keep"))
	})
}

func TestAuthorizeIssuerParameter(t *testing.T) {
	e := newAuthzEnv(t, func(c *provider.Config) { c.Issuer = "https://auth.example.com" }, nil)
	w := e.get(spaParams("client_id", "first", "redirect_uri", "https://first.example/cb"), "user-1")
	q := redirected(t, w, http.StatusFound, "https://first.example/cb")
	assert.Equal(t, "https://auth.example.com", q.Get("iss"), "RFC 9207")
	assert.NotEmpty(t, q.Get("code"))

	// RFC 9207 §2: error responses carry iss too, and exactly once.
	w = e.get(spaParams("client_id", "first", "redirect_uri", "https://first.example/cb", "response_type", "token"), "user-1")
	q = assertRedirectError(t, w, "https://first.example/cb", "unsupported_response_type", "st-123")
	assert.Equal(t, []string{"https://auth.example.com"}, q["iss"])
	fields := consentFields(t, e.get(spaParams(), "user-1"))
	q = redirected(t, e.decide(fields, "user-1", "deny"), http.StatusSeeOther, "https://spa.example/cb")
	assert.Equal(t, "access_denied", q.Get("error"))
	assert.Equal(t, []string{"https://auth.example.com"}, q["iss"])
	// An error page (untrusted redirect URI) sends nothing to any client.
	assertErrorPage(t, e.get(spaParams("redirect_uri", "https://evil.example/cb"), "user-1"), 400, "invalid_request")
}

// A first-party client skips consent only where the code can reach no one
// else: a public client on a loopback redirect URI could be any program
// on the user's machine listening there, so the user is asked (RFC 8252
// §8.6); the same client on its https redirect URI, and a confidential
// client (it authenticates to exchange the code), are not.
func TestAuthorizeFirstPartyPublicLoopbackIsAsked(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	params := func(client, redirect string) url.Values {
		return spaParams("client_id", client, "redirect_uri", redirect, "scope", "read")
	}
	w := e.get(params("first-native", "http://127.0.0.1:49999/callback"), "user-1")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Empty(t, w.Header().Get("Location"), "no code without the user")
	assert.Contains(t, w.Body.String(), `id="consent"`)
	// https on this machine is no better: any program here may listen.
	for _, local := range []string{"https://localhost:8443/cb", "https://app.localhost/cb"} {
		w = e.get(params("first-native", local), "user-1")
		assert.Equal(t, http.StatusOK, w.Code, local)
		assert.Contains(t, w.Body.String(), `id="consent"`, local)
	}

	q := redirected(t, e.get(params("first-native", "https://first.example/native"), "user-1"), http.StatusFound, "https://first.example/native")
	assert.NotEmpty(t, q.Get("code"))
	q = redirected(t, e.get(params("first-conf", "http://127.0.0.1:49999/callback"), "user-1"), http.StatusFound, "http://127.0.0.1:49999/callback")
	assert.NotEmpty(t, q.Get("code"))
}

// Without a session, the browser goes to the login page with a local
// return-to URL that leads back to the same request.
func TestAuthorizeLoginRedirect(t *testing.T) {
	e := newAuthzEnv(t, nil, func(c *provider.AuthorizeConfig) { c.LoginURL = "https://auth.example.com/login?lang=en" })
	params := spaParams("client_id", "first", "redirect_uri", "https://first.example/cb")
	w := e.authorize(azReq{query: params.Encode() + "&unknown=x"})
	require.Equal(t, http.StatusFound, w.Code)
	loc, err := url.Parse(w.Header().Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "https://auth.example.com/login", loc.Scheme+"://"+loc.Host+loc.Path)
	assert.Equal(t, "en", loc.Query().Get("lang"))
	returnTo := loc.Query().Get("return_to")
	require.True(t, strings.HasPrefix(returnTo, "/oauth2/authorize?"), returnTo)
	rt, err := url.Parse(returnTo)
	require.NoError(t, err)
	assert.Empty(t, rt.Host, "return-to is local")
	assert.Equal(t, params, rt.Query(), "return-to carries the authorization request, nothing else")

	// After login, the return-to URL completes the request.
	w = e.authorize(azReq{query: rt.RawQuery, user: "user-1"})
	q := redirected(t, w, http.StatusFound, "https://first.example/cb")
	assert.NotEmpty(t, q.Get("code"))
	assert.Equal(t, "st-123", q.Get("state"))

	t.Run("POST request: 303 and a GET return-to", func(t *testing.T) {
		w := e.authorize(azReq{method: http.MethodPost, form: params})
		require.Equal(t, http.StatusSeeOther, w.Code)
		loc, err := url.Parse(w.Header().Get("Location"))
		require.NoError(t, err)
		rt, err := url.Parse(loc.Query().Get("return_to"))
		require.NoError(t, err)
		assert.Equal(t, "/oauth2/authorize", rt.Path)
		assert.Equal(t, params, rt.Query())
	})
	t.Run("custom return-to parameter", func(t *testing.T) {
		e := newAuthzEnv(t, nil, func(c *provider.AuthorizeConfig) { c.ReturnToParam = "next" })
		w := e.get(params, "")
		require.Equal(t, http.StatusFound, w.Code)
		assert.True(t, strings.HasPrefix(w.Header().Get("Location"), "/login?next=%2Foauth2%2Fauthorize%3F"), w.Header().Get("Location"))
	})
	t.Run("LoginURL ending in a separator", func(t *testing.T) {
		for login, want := range map[string]string{"/login?": "/login?return_to=", "/login?lang=en&": "/login?lang=en&return_to="} {
			e := newAuthzEnv(t, nil, func(c *provider.AuthorizeConfig) { c.LoginURL = login })
			w := e.get(params, "")
			require.Equal(t, http.StatusFound, w.Code)
			assert.True(t, strings.HasPrefix(w.Header().Get("Location"), want+"%2Foauth2%2Fauthorize%3F"), w.Header().Get("Location"))
		}
	})
}

// A first-party client skips consent; the code is a hashed, single-use,
// 60-second KindCode token of a grant bound to client, redirect URI,
// challenge, user and scopes.
func TestAuthorizeFirstPartyIssuesBoundCode(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	w := e.get(spaParams("client_id", "first", "redirect_uri", "https://first.example/cb", "scope", "read write"), "user-1")
	q := redirected(t, w, http.StatusFound, "https://first.example/cb")
	assert.Equal(t, "st-123", q.Get("state"))
	code := q.Get("code")
	ref, err := token.Parse(storage.KindCode, code)
	require.NoError(t, err, "the code is a KindCode token")

	ti, err := e.store.LookupToken(context.Background(), storage.KindCode, ref)
	require.NoError(t, err)
	assert.Equal(t, storage.HashToken(code), ti.Token.Hash, "only the hash is stored")
	assert.Equal(t, 60*time.Second, ti.Token.ExpiresAt.Sub(ti.Token.IssuedAt), "code lifetime")
	assert.Equal(t, "first", ti.Grant.ClientID)
	assert.Equal(t, "user-1", ti.Grant.UserID)
	assert.Equal(t, []string{"read", "write"}, ti.Grant.Scopes)
	assert.Equal(t, &storage.CodeBinding{RedirectURI: "https://first.example/cb", Challenge: testChallenge, ChallengeMethod: "S256"}, ti.Grant.Code)
	assert.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"))
}

func TestAuthorizeCodeTTL(t *testing.T) {
	e := newAuthzEnv(t, nil, func(c *provider.AuthorizeConfig) { c.CodeTTL = 30 * time.Second })
	code := e.code(t, spaParams("client_id", "first", "redirect_uri", "https://first.example/cb"), "user-1")
	ref, _ := token.Parse(storage.KindCode, code)
	ti, err := e.store.LookupToken(context.Background(), storage.KindCode, ref)
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, ti.Token.ExpiresAt.Sub(ti.Token.IssuedAt))
}

// RFC 8252 §7.3: a loopback IP redirect URI may use any port.
func TestAuthorizeLoopbackAnyPort(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	for _, uri := range []string{"http://127.0.0.1:53123/callback", "http://127.0.0.1/callback", "http://[::1]:1234/cb", "http://[::1]/cb"} {
		t.Run(uri, func(t *testing.T) {
			w := e.get(spaParams("redirect_uri", uri, "client_id", "spa"), "user-1")
			fields := consentFields(t, w)
			assert.Equal(t, uri, fields.Get("redirect_uri"))
			w = e.decide(fields, "user-1", "allow")
			q := redirected(t, w, http.StatusSeeOther, uri)
			assert.NotEmpty(t, q.Get("code"))
		})
	}
}

func TestAuthorizeConsent(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	const spaCB = "https://spa.example/cb"

	t.Run("third-party client sees the consent page", func(t *testing.T) {
		w := e.get(spaParams("scope", "read write"), "user-1")
		fields := consentFields(t, w)
		body := w.Body.String()
		assert.Contains(t, body, `<ul id="scopes"><li>read</li><li>write</li></ul>`)
		assert.Contains(t, body, `<form method="post" action="/oauth2/authorize" id="consent">`)
		assert.Contains(t, body, `name="decision" value="allow"`)
		assert.Contains(t, body, `name="decision" value="deny"`)
		assert.Equal(t, "DENY", w.Header().Get("X-Frame-Options"))
		assert.Equal(t, "frame-ancestors 'none'", w.Header().Get("Content-Security-Policy"))
		assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		assert.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"))
		assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
		want := spaParams("scope", "read write")
		want.Set("consent_token", fields.Get("consent_token"))
		assert.Equal(t, want, fields)
	})
	t.Run("allow redirects with a code (303 after POST)", func(t *testing.T) {
		fields := consentFields(t, e.get(spaParams(), "user-1"))
		q := redirected(t, e.decide(fields, "user-1", "allow"), http.StatusSeeOther, spaCB)
		assert.Equal(t, "st-123", q.Get("state"))
		_, err := token.Parse(storage.KindCode, q.Get("code"))
		assert.NoError(t, err)
	})
	t.Run("deny redirects with access_denied", func(t *testing.T) {
		fields := consentFields(t, e.get(spaParams(), "user-1"))
		q := redirected(t, e.decide(fields, "user-1", "deny"), http.StatusSeeOther, spaCB)
		assert.Equal(t, "access_denied", q.Get("error"))
		assert.Equal(t, "st-123", q.Get("state"))
		assert.Empty(t, q.Get("code"))
	})
	t.Run("POST authorization request shows consent too", func(t *testing.T) {
		w := e.authorize(azReq{method: http.MethodPost, form: spaParams(), user: "user-1"})
		consentFields(t, w)
	})

	csrf := []struct {
		name   string
		mutate func(f url.Values) (url.Values, string, http.Header)
	}{
		{"cross-site POST is refused (CrossOriginProtection)", func(f url.Values) (url.Values, string, http.Header) {
			return f, "user-1", http.Header{"Sec-Fetch-Site": {"cross-site"}}
		}},
		{"cross-origin Origin is refused", func(f url.Values) (url.Values, string, http.Header) {
			return f, "user-1", http.Header{"Origin": {"https://evil.example"}}
		}},
		{"form token of another user", func(f url.Values) (url.Values, string, http.Header) {
			return f, "user-2", nil
		}},
		{"missing form token", func(f url.Values) (url.Values, string, http.Header) {
			f.Del("consent_token")
			return f, "user-1", nil
		}},
		{"forged form token", func(f url.Values) (url.Values, string, http.Header) {
			f.Set("consent_token", strings.Repeat("A", 54))
			return f, "user-1", nil
		}},
		{"scope changed after consent", func(f url.Values) (url.Values, string, http.Header) {
			f.Set("scope", "read write")
			return f, "user-1", nil
		}},
		{"challenge changed after consent", func(f url.Values) (url.Values, string, http.Header) {
			f.Set("code_challenge", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
			return f, "user-1", nil
		}},
		{"state changed after consent", func(f url.Values) (url.Values, string, http.Header) {
			f.Set("state", "other")
			return f, "user-1", nil
		}},
	}
	for _, c := range csrf {
		t.Run(c.name, func(t *testing.T) {
			fields := consentFields(t, e.get(spaParams(), "user-1"))
			f, user, hdr := c.mutate(fields)
			f.Set("decision", "allow")
			w := e.authorize(azReq{method: http.MethodPost, form: f, user: user, header: hdr})
			assertErrorPage(t, w, http.StatusForbidden, "access_denied")
		})
	}
	t.Run("expired form token", func(t *testing.T) {
		fields := consentFields(t, e.get(spaParams(), "user-1"))
		e.clock.Advance(10*time.Minute + time.Second)
		assertErrorPage(t, e.decide(fields, "user-1", "allow"), http.StatusForbidden, "access_denied")
	})
	t.Run("session gone: back to login", func(t *testing.T) {
		fields := consentFields(t, e.get(spaParams(), "user-1"))
		w := e.decide(fields, "", "allow")
		require.Equal(t, http.StatusSeeOther, w.Code)
		assert.True(t, strings.HasPrefix(w.Header().Get("Location"), "/login?return_to="))
		assert.NotContains(t, w.Header().Get("Location"), "consent_token")
	})
	t.Run("a form token from another handler's key is refused", func(t *testing.T) {
		fields := consentFields(t, e.get(spaParams(), "user-1"))
		other := newAuthzEnv(t, nil, nil)
		assertErrorPage(t, other.decide(fields, "user-1", "allow"), http.StatusForbidden, "access_denied")
	})
}

func TestAuthorizeSharedConsentKey(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	set := func(c *provider.AuthorizeConfig) { c.ConsentKey = key }
	a := newAuthzEnv(t, nil, set)
	b := newAuthzEnv(t, nil, set)
	fields := consentFields(t, a.get(spaParams(), "user-1"))
	q := redirected(t, b.decide(fields, "user-1", "allow"), http.StatusSeeOther, "https://spa.example/cb")
	assert.NotEmpty(t, q.Get("code"), "instances sharing ConsentKey accept each other's forms")
}

func TestAuthorizeCustomTemplates(t *testing.T) {
	consent := template.Must(template.New("c").Parse(`custom {{.ClientID}} {{range .Fields}}[{{.Name}}]{{end}}`))
	errPage := template.Must(template.New("e").Parse(`oops {{.Code}} {{.Status}}`))
	e := newAuthzEnv(t, nil, func(c *provider.AuthorizeConfig) {
		c.ConsentTemplate = consent
		c.ErrorTemplate = errPage
	})
	w := e.get(spaParams(), "user-1")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "custom spa [response_type][client_id][redirect_uri][scope][state][code_challenge][code_challenge_method][consent_token]", w.Body.String())
	w = e.get(spaParams("client_id", "nobody"), "user-1")
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Equal(t, "oops invalid_request 400", w.Body.String())
}

func TestAuthorizePlainPKCEOptIn(t *testing.T) {
	e := newAuthzEnv(t, nil, func(c *provider.AuthorizeConfig) { c.AllowPlainPKCE = true })
	t.Run("confidential client may use plain", func(t *testing.T) {
		params := spaParams("client_id", "web", "redirect_uri", "", "code_challenge", testVerifier, "code_challenge_method", "plain")
		code := e.code(t, params, "user-1")
		w := e.do(req{form: exchange(code, "client_id", "", "redirect_uri", ""), basic: []string{"web", confSecret}})
		assertToken(t, w)
	})
	t.Run("public client still may not", func(t *testing.T) {
		w := e.get(spaParams("code_challenge", testVerifier, "code_challenge_method", "plain"), "user-1")
		assertRedirectError(t, w, "https://spa.example/cb", "invalid_request", "st-123")
	})
	// A plain challenge is a code_verifier (RFC 7636 §4.2): one that no
	// verifier can match is refused up front, not turned into a code that
	// can never be exchanged (mutation survivor: its check dropped).
	for _, ch := range []string{"short", testVerifier[:42], strings.Repeat("a", 129), testVerifier[:42] + "+", testVerifier[:42] + "/"} {
		t.Run(fmt.Sprintf("malformed plain challenge %.10q", ch), func(t *testing.T) {
			params := spaParams("client_id", "web", "redirect_uri", "", "code_challenge", ch, "code_challenge_method", "plain")
			w := e.get(params, "user-1")
			q := assertRedirectError(t, w, "https://web.example/cb", "invalid_request", "st-123")
			assert.Equal(t, "malformed code_challenge", q.Get("error_description"))
		})
	}
}

// The consent form posts back to the authorization endpoint's path, and
// never to another host: under a router that does not clean paths, a
// request for "//evil.example/x" would otherwise get a form whose action
// a browser reads as https://evil.example/x, and post the consent token
// there.
func TestAuthorizeConsentFormStaysOnSite(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	for path, want := range map[string]string{
		"/oauth2/authorize":         `action="/oauth2/authorize"`,
		"//evil.example/x":          `action="/"`,
		"/\\evil.example/x":         `action="/%5Cevil.example/x"`, // escaped: a path
		"/mount//oauth2/authorize/": `action="/mount//oauth2/authorize/"`,
	} {
		r := httptest.NewRequest(http.MethodGet, "https://auth.example.com/oauth2/authorize?"+spaParams().Encode(), nil)
		r.URL.Path, r.URL.RawPath = path, ""
		r.TLS = &tls.ConnectionState{}
		r.AddCookie(&http.Cookie{Name: userCookie, Value: "user-1"})
		w := httptest.NewRecorder()
		e.az.ServeHTTP(w, r)
		require.Equal(t, http.StatusOK, w.Code, "%s: %s", path, w.Body.String())
		assert.Contains(t, w.Body.String(), want, path)
	}
}

// The consent form carries state back as a hidden input, which an HTML
// page cannot hold unchanged when it has control characters or invalid
// UTF-8: html/template writes NUL as U+FFFD, a browser reads a CR as a
// LF, posts a LF as CR LF, and decodes invalid UTF-8 as U+FFFD. The
// posted state would then differ from the one the form token was made
// for, and the user, who can never approve, would be stuck on a 403
// page while the client hears nothing. Such a state (not the VSCHAR of
// RFC 6749 Appendix A.5) is refused up front, back to the client with
// the state as sent; any other survives the form exactly.
func TestAuthorizeStateSurvivesTheConsentForm(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	const spaCB = "https://spa.example/cb"
	for _, st := range []string{"a\x00b", "a\rb", "a\nb", "a\x7fb", "a\xffb"} {
		t.Run(fmt.Sprintf("%q refused", st), func(t *testing.T) {
			w := e.get(spaParams("state", st), "user-1")
			assertRedirectError(t, w, spaCB, "invalid_request", st)
		})
	}
	for _, st := range []string{"a\tb", "a b", " st-123 ", `"<&'>`, "é🙂", "a&quot;b", strings.Repeat("s", 4096)} {
		t.Run(fmt.Sprintf("%.20q kept", st), func(t *testing.T) {
			fields := consentFields(t, e.get(spaParams("state", st), "user-1"))
			q := redirected(t, e.decide(fields, "user-1", "allow"), http.StatusSeeOther, spaCB)
			assert.Equal(t, st, q.Get("state"))
			assert.NotEmpty(t, q.Get("code"))
		})
	}
}

// The endpoint answers in the query only. A client that asks for another
// response mode (response_mode=fragment or form_post, OAuth 2.0 Multiple
// Response Type Encoding Practices, Form Post Response Mode) does so to
// keep the code out of the query; answering it there anyway, as if the
// parameter were unknown, puts the code where the client said it must not
// be, and a client that reads only the fragment or the form never sees
// it. Such a request is invalid_request, and the metadata says "query"
// only: without response_modes_supported, RFC 8414 §2 reads it as
// ["query", "fragment"].
func TestAuthorizeResponseMode(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	first := func(kv ...string) url.Values {
		return spaParams(append([]string{"client_id", "first", "redirect_uri", "https://first.example/cb"}, kv...)...)
	}
	for _, mode := range []string{"fragment", "form_post", "query.jwt", "Query"} {
		t.Run(mode+" refused", func(t *testing.T) {
			w := e.get(first("response_mode", mode), "user-1")
			assertRedirectError(t, w, "https://first.example/cb", "invalid_request", "st-123")
		})
	}
	t.Run("repeated response_mode", func(t *testing.T) {
		w := e.authorize(azReq{query: first("response_mode", "query").Encode() + "&response_mode=query", user: "user-1"})
		assertRedirectError(t, w, "https://first.example/cb", "invalid_request", "st-123")
	})
	t.Run("query is the one mode", func(t *testing.T) {
		q := redirected(t, e.get(first("response_mode", "query"), "user-1"), http.StatusFound, "https://first.example/cb")
		assert.NotEmpty(t, q.Get("code"))
		// An empty response_mode is no mode: the default, query.
		q = redirected(t, e.authorize(azReq{query: first().Encode() + "&response_mode=", user: "user-1"}), http.StatusFound, "https://first.example/cb")
		assert.NotEmpty(t, q.Get("code"))
		fields := consentFields(t, e.get(spaParams("response_mode", "query"), "user-1"))
		q = redirected(t, e.decide(fields, "user-1", "allow"), http.StatusSeeOther, "https://spa.example/cb")
		assert.NotEmpty(t, q.Get("code"))
	})
	t.Run("metadata", func(t *testing.T) {
		e := newEnv(t, func(c *provider.Config) {
			c.Issuer = "https://auth.example.com"
			c.Endpoints.Authorization = "/oauth2/authorize"
		})
		assert.Equal(t, []any{"query"}, metadataDoc(t, e.p)["response_modes_supported"])
		e = newEnv(t, func(c *provider.Config) { c.Issuer = "https://auth.example.com" })
		assert.NotContains(t, metadataDoc(t, e.p), "response_modes_supported")
	})
}

// A native app's private-use scheme can be claimed by any app on the
// device, host or no host (RFC 8252 §8.6): a first-party public client
// on one is asked, as on a loopback URI.
func TestAuthorizeFirstPartyPrivateUseSchemeIsAsked(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{
		ID: "first-app", Public: true, FirstParty: true, Scopes: []string{"read"},
		GrantTypes:   []string{storage.GrantAuthorizationCode},
		RedirectURIs: []string{"com.example.app://first.example/cb"},
	}))
	w := e.get(spaParams("client_id", "first-app", "redirect_uri", "com.example.app://first.example/cb"), "user-1")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Empty(t, w.Header().Get("Location"), "no code without the user")
	assert.Contains(t, w.Body.String(), `id="consent"`)
}

// A consent form posting consent_token twice is refused before it is
// read: which of the two counts would otherwise depend on the parser.
func TestAuthorizeRepeatedConsentTokenRefused(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	fields := consentFields(t, e.get(spaParams(), "user-1"))
	fields.Add("consent_token", "other")
	assertErrorPage(t, e.decide(fields, "user-1", "allow"), http.StatusBadRequest, "invalid_request")
}

// A consent form posting decision twice ("deny" and "allow") is refused,
// not read as its first (mutation survivor: decision dropped from
// readParams' check).
func TestAuthorizeRepeatedDecisionRefused(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	for _, ds := range [][]string{{"allow", "deny"}, {"deny", "allow"}, {"allow", "allow"}} {
		fields := consentFields(t, e.get(spaParams(), "user-1"))
		fields["decision"] = ds
		w := e.authorize(azReq{method: http.MethodPost, form: fields, user: "user-1",
			header: http.Header{"Sec-Fetch-Site": {"same-origin"}}})
		assertErrorPage(t, w, http.StatusBadRequest, "invalid_request")
		assert.Contains(t, w.Body.String(), "parameter decision repeated", ds)
	}
}

// AuthorizeHandler keeps its own copy of ConsentKey: an app that reuses
// or clears its key buffer afterwards does not break the forms shown.
func TestAuthorizeConsentKeyIsCopied(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	e := newAuthzEnv(t, nil, func(c *provider.AuthorizeConfig) { c.ConsentKey = key })
	fields := consentFields(t, e.get(spaParams(), "user-1"))
	clear(key)
	q := redirected(t, e.decide(fields, "user-1", "allow"), http.StatusSeeOther, "https://spa.example/cb")
	assert.NotEmpty(t, q.Get("code"))
}

// A consent template that fails to execute leaves the request unanswered
// past a point where the redirect URI is trusted: the client hears
// server_error (RFC 6749 §4.1.2.1, the error that exists because a 500
// cannot be redirected), with state and iss, and the template's error is
// logged, instead of the user being left on a bare 500 that the client
// never learns of.
func TestAuthorizeFailingConsentTemplateRedirectsServerError(t *testing.T) {
	var log providertest.LockedBuffer
	e := newAuthzEnv(t, func(c *provider.Config) {
		c.Issuer = "https://auth.example.com"
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	}, func(c *provider.AuthorizeConfig) {
		c.ConsentTemplate = template.Must(template.New("c").Parse(`{{.Nope}}`))
	})
	w := e.get(spaParams(), "user-1")
	q := assertRedirectError(t, w, "https://spa.example/cb", "server_error", "st-123")
	assert.Equal(t, "https://auth.example.com", q.Get("iss"))
	assert.Contains(t, log.String(), "level=ERROR")
	assert.Contains(t, log.String(), "Nope", "the template's error is logged")
}

// The logged error of a failing consent template never holds the page's
// consent token, the form's proof that the user saw this page, which a
// template error may quote ("range can't iterate over <value>").
func TestAuthorizeFailingConsentTemplateLogsNoConsentToken(t *testing.T) {
	var log providertest.LockedBuffer
	e := newAuthzEnv(t, func(c *provider.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	}, func(c *provider.AuthorizeConfig) {
		c.ConsentTemplate = template.Must(template.New("c").Parse(
			`{{range .Fields}}{{if eq .Name "consent_token"}}{{range .Value}}{{end}}{{end}}{{end}}`))
	})
	assertRedirectError(t, e.get(spaParams(), "user-1"), "https://spa.example/cb", "server_error", "st-123")
	assert.Contains(t, log.String(), "range can't iterate over", "the template's error is logged")
	// A consent token is 54 characters of base64url (expiry and MAC).
	assert.NotRegexp(t, `[A-Za-z0-9_-]{54}`, log.String(), "the consent token is logged")
}

// The consent page names the client that asks, in its title, heading and
// the list of what it asks for (or that it asks for no scope), and the
// signed-in user who decides, HTML-escaped (a user ID is the app's string,
// not markup).
func TestAuthorizeConsentPageNamesTheClientAndTheUser(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	w := e.get(spaParams(), "user-1")
	require.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body.String())
	body := w.Body.String()
	assert.Contains(t, body, `<title>Authorize spa</title>`)
	assert.Contains(t, body, `<h1>Authorize spa?</h1>`)
	assert.Contains(t, body, `<p><strong>spa</strong> asks for:</p>`)
	assert.Contains(t, body, `<p>Signed in as <strong>user-1</strong>.</p>`)

	w = e.get(spaParams(), `<i>u&'1`)
	require.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body.String())
	assert.Contains(t, w.Body.String(), `<p>Signed in as <strong>&lt;i&gt;u&amp;&#39;1</strong>.</p>`)
	assert.NotContains(t, w.Body.String(), `<i>`)

	require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{ID: "no-scope", Public: true,
		GrantTypes: []string{storage.GrantAuthorizationCode}, Scopes: []string{"read"}, // none of the DefaultScopes
		RedirectURIs: []string{"https://noscope.example/cb"}}))
	w = e.get(spaParams("client_id", "no-scope", "redirect_uri", "https://noscope.example/cb", "scope", ""), "user-1")
	require.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body.String())
	assert.Contains(t, w.Body.String(), `<p><strong>no-scope</strong> asks for no particular scope.</p>`)
	assert.NotContains(t, w.Body.String(), `id="scopes"`)
}
