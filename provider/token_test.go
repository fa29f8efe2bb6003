package provider_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenEndpointRequestRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*provider.Config)
		req    req
		status int
		code   string // "" means success
	}{
		{name: "POST only: GET is 405", req: req{method: http.MethodGet, basic: conf}, status: 405, code: "invalid_request"},
		{name: "POST only: PUT is 405", req: req{method: http.MethodPut, form: password(), basic: conf}, status: 405, code: "invalid_request"},
		{name: "plain HTTP is refused", req: req{form: password(), basic: conf, plainHTTP: true}, status: 400, code: "invalid_request"},
		{name: "plain HTTP is served with AllowInsecureHTTP", mutate: func(c *provider.Config) { c.AllowInsecureHTTP = true },
			req: req{form: password(), basic: conf, plainHTTP: true}, status: 200},
		{name: "X-Forwarded-Proto https from a trusted proxy counts as HTTPS",
			mutate: func(c *provider.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} },
			req: req{form: password(), basic: conf, plainHTTP: true, remoteAddr: "10.1.2.3:5555",
				header: http.Header{"X-Forwarded-Proto": {"https"}}}, status: 200},
		{name: "X-Forwarded-Proto in several lines: the last, the trusted proxy's own, says http",
			mutate: func(c *provider.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} },
			req: req{form: password(), basic: conf, plainHTTP: true, remoteAddr: "10.1.2.3:5555",
				header: http.Header{"X-Forwarded-Proto": {"https", "http"}}}, status: 400, code: "invalid_request"},
		{name: "X-Forwarded-Proto in several lines: the last, the trusted proxy's own, says https",
			mutate: func(c *provider.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} },
			req: req{form: password(), basic: conf, plainHTTP: true, remoteAddr: "10.1.2.3:5555",
				header: http.Header{"X-Forwarded-Proto": {"http", "https"}}}, status: 200},
		{name: "X-Forwarded-Proto from an untrusted address is ignored",
			mutate: func(c *provider.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} },
			req: req{form: password(), basic: conf, plainHTTP: true, remoteAddr: "192.0.2.1:5555",
				header: http.Header{"X-Forwarded-Proto": {"https"}}}, status: 400, code: "invalid_request"},
		{name: "X-Forwarded-Proto without trusted proxies is ignored",
			req:    req{form: password(), basic: conf, plainHTTP: true, header: http.Header{"X-Forwarded-Proto": {"https"}}},
			status: 400, code: "invalid_request"},
		{name: "Content-Type is required", req: req{form: password(), basic: conf, contentType: "-"}, status: 400, code: "invalid_request"},
		{name: "Content-Type JSON is refused", req: req{rawBody: `{"grant_type":"password"}`, basic: conf, contentType: "application/json"}, status: 400, code: "invalid_request"},
		{name: "Content-Type multipart is refused", req: req{form: password(), basic: conf, contentType: "multipart/form-data; boundary=x"}, status: 400, code: "invalid_request"},
		{name: "Content-Type charset parameter is allowed", req: req{form: password(), basic: conf, contentType: "application/x-www-form-urlencoded; charset=UTF-8"}, status: 200},
		{name: "body over MaxRequestBytes is 413", mutate: func(c *provider.Config) { c.MaxRequestBytes = 100 },
			req: req{form: password("pad", strings.Repeat("x", 100)), basic: conf}, status: 413, code: "invalid_request"},
		{name: "body at MaxRequestBytes is served", mutate: func(c *provider.Config) { c.MaxRequestBytes = 200 },
			req: req{rawBody: padTo(password().Encode(), 200), basic: conf}, status: 200},
		{name: "malformed form body", req: req{rawBody: "grant_type=password&username=%zz", basic: conf}, status: 400, code: "invalid_request"},
		{name: "repeated parameter", req: req{rawBody: password().Encode() + "&username=mallory", basic: conf}, status: 400, code: "invalid_request"},
		{name: "repeated grant_type", req: req{rawBody: password().Encode() + "&grant_type=password", basic: conf}, status: 400, code: "invalid_request"},
		{name: "RFC 6749 §3.1: a parameter without a value is omitted, so not repeated by one with a value",
			req: req{rawBody: "client_id=&" + password().Encode() + "&client_id=pub&scope"}, status: 200},
		{name: "RFC 6749 §3.1: a parameter without a value repeated is still omitted",
			req: req{rawBody: password().Encode() + "&scope=&scope", basic: conf}, status: 200},
		{name: "repeated unknown parameter is ignored", req: req{rawBody: password().Encode() + "&x=1&x=2", basic: conf}, status: 200},
		{name: "unknown parameters are ignored", req: req{form: password("foo", "bar", "state", "s"), basic: conf}, status: 200},
		{name: "client_secret in the URL query is refused", req: req{form: password("client_id", "conf"), query: "client_secret=" + confSecret}, status: 400, code: "invalid_request"},
		{name: "client_id in the URL query is refused", req: req{form: password(), basic: conf, query: "client_id=conf"}, status: 400, code: "invalid_request"},
		{name: "password in the URL query is refused", req: req{form: password(), basic: conf, query: "password=foobar42"}, status: 400, code: "invalid_request"},
		{name: "refresh_token in the URL query is refused", req: req{form: password(), basic: conf, query: "refresh_token=x"}, status: 400, code: "invalid_request"},
		{name: "a secret after a ';' in the URL query is refused", req: req{form: password(), basic: conf, query: "x=1;client_secret=" + confSecret}, status: 400, code: "invalid_request"},
		{name: "a secret in a malformed URL query is refused", req: req{form: password(), basic: conf, query: "x=%zz&password=foobar42"}, status: 400, code: "invalid_request"},
		{name: "other URL query parameters are kept but ignored", req: req{form: password(), basic: conf, query: "tenant=a"}, status: 200},
		{name: "the URL query never supplies a parameter", req: req{form: password("grant_type", ""), basic: conf, query: "grant_type=password"}, status: 400, code: "invalid_request"},
		{name: "missing grant_type", req: req{form: password("grant_type", ""), basic: conf}, status: 400, code: "invalid_request"},
		{name: "empty grant_type counts as missing", req: req{rawBody: "grant_type=&username=johndoe&password=foobar42", basic: conf}, status: 400, code: "invalid_request"},
		{name: "unknown grant_type", req: req{form: password("grant_type", "urn:x:magic"), basic: conf}, status: 400, code: "unsupported_grant_type"},
		{name: "authorization_code for a client not allowed it", req: req{form: password("grant_type", "authorization_code", "code", "x"), basic: conf}, status: 400, code: "unauthorized_client"},
		{name: "password grant without Users is unsupported", mutate: func(c *provider.Config) { c.Users = nil },
			req: req{form: password(), basic: conf}, status: 400, code: "unsupported_grant_type"},
		{name: "grant type the client may not use is unauthorized_client", req: req{form: password(), basic: []string{"cc-only", confSecret}}, status: 400, code: "unauthorized_client"},
		{name: "missing username", req: req{form: password("username", ""), basic: conf}, status: 400, code: "invalid_request"},
		{name: "empty username counts as missing", req: req{rawBody: "grant_type=password&username=&password=foobar42", basic: conf}, status: 400, code: "invalid_request"},
		{name: "missing password", req: req{form: password("password", ""), basic: conf}, status: 400, code: "invalid_request"},
		{name: "empty password counts as missing", req: req{rawBody: "grant_type=password&username=johndoe&password=", basic: conf}, status: 400, code: "invalid_request"},
		{name: "empty client_id with Basic counts as absent", req: req{rawBody: "grant_type=password&username=johndoe&password=foobar42&client_id=", basic: conf}, status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.mutate)
			w := e.do(tc.req)
			if tc.code == "" {
				assertToken(t, w)
				return
			}
			assertError(t, w, tc.status, tc.code)
			if tc.status == 405 {
				assert.Equal(t, "POST", w.Header().Get("Allow"))
			}
		})
	}
}

// padTo pads a form body with an ignored parameter to exactly n bytes.
func padTo(body string, n int) string {
	body += "&pad="
	return body + strings.Repeat("x", n-len(body))
}

func TestClientAuthenticationRules(t *testing.T) {
	basicChallenge := `Basic realm="test-realm"`
	tests := []struct {
		name      string
		req       req
		status    int
		code      string // "" means success
		challenge string
	}{
		{name: "client_secret_basic", req: req{form: password(), basic: conf}, status: 200},
		{name: "client_secret_post", req: req{form: password("client_id", "conf", "client_secret", confSecret)}, status: 200},
		{name: "Basic id and secret are form-urlencoded (§2.3.1)", req: req{form: password(), basic: []string{weirdID, weirdSecret}}, status: 200},
		{name: "Basic id and secret not form-urlencoded fail", req: req{form: password(),
			header: http.Header{"Authorization": {"Basic " + b64(weirdID+":"+weirdSecret)}}}, status: 401, code: "invalid_client", challenge: basicChallenge},
		{name: "Basic scheme name is case-insensitive", req: req{form: password(),
			header: http.Header{"Authorization": {"bAsIc " + b64("conf:"+confSecret)}}}, status: 200},
		{name: "Basic credentials after several spaces (RFC 9110 §11.4: 1*SP), a tab and trailing space ignored", req: req{form: password(),
			header: http.Header{"Authorization": {"Basic  \t" + b64("conf:"+confSecret) + " "}}}, status: 200},
		{name: "client_id in the body may repeat the Basic one", req: req{form: password("client_id", "conf"), basic: conf}, status: 200},
		{name: "client_id in the body differing from Basic", req: req{form: password("client_id", "other"), basic: conf}, status: 400, code: "invalid_request"},
		{name: "client_id in the body differing from a public client's Basic id with an empty secret", req: req{form: password("client_id", "conf"), basic: []string{"pub", ""}}, status: 400, code: "invalid_request"},
		{name: "Basic and client_secret_post at once", req: req{form: password("client_id", "conf", "client_secret", confSecret), basic: conf}, status: 400, code: "invalid_request"},
		{name: "two Authorization headers", req: req{form: password(), header: http.Header{"Authorization": {basicAuth("conf", confSecret), basicAuth("conf", confSecret)}}}, status: 400, code: "invalid_request"},
		{name: "RFC 6749 §5.2: malformed Basic base64 is a failed authentication with the header", req: req{form: password(), header: http.Header{"Authorization": {"Basic !!!"}}}, status: 401, code: "invalid_client", challenge: basicChallenge},
		{name: "RFC 6749 §5.2: Basic without colon is a failed authentication with the header", req: req{form: password(), header: http.Header{"Authorization": {"Basic " + b64("conf")}}}, status: 401, code: "invalid_client", challenge: basicChallenge},
		{name: "Basic without colon is no public client naming itself", req: req{form: password(), header: http.Header{"Authorization": {"Basic " + b64("pub")}}}, status: 401, code: "invalid_client", challenge: basicChallenge},
		{name: "Basic with a malformed escape in the secret fails, even for a public client", req: req{form: password(), header: http.Header{"Authorization": {"Basic " + b64("pub:%zz")}}}, status: 401, code: "invalid_client", challenge: basicChallenge},
		{name: "client_secret without client_id", req: req{form: password("client_secret", confSecret)}, status: 400, code: "invalid_request"},
		{name: "no client authentication", req: req{form: password()}, status: 401, code: "invalid_client", challenge: basicChallenge},
		{name: "another Authorization scheme", req: req{form: password(), header: http.Header{"Authorization": {"Bearer abc"}}}, status: 401, code: "invalid_client", challenge: basicChallenge},
		{name: "wrong secret with Basic is 401 with a Basic challenge", req: req{form: password(), basic: []string{"conf", otherSecret}}, status: 401, code: "invalid_client", challenge: basicChallenge},
		{name: "unknown client with Basic is 401 with a Basic challenge", req: req{form: password(), basic: []string{"nobody", confSecret}}, status: 401, code: "invalid_client", challenge: basicChallenge},
		{name: "wrong secret with post is 401 without a challenge", req: req{form: password("client_id", "conf", "client_secret", otherSecret)}, status: 401, code: "invalid_client"},
		{name: "unknown client with post is 401 without a challenge", req: req{form: password("client_id", "nobody", "client_secret", confSecret)}, status: 401, code: "invalid_client"},
		{name: "disabled client is invalid_client", req: req{form: password(), basic: []string{"disabled", confSecret}}, status: 401, code: "invalid_client", challenge: basicChallenge},
		{name: "confidential client with client_id alone", req: req{form: password("client_id", "conf")}, status: 401, code: "invalid_client"},
		{name: "confidential client with Basic and an empty secret", req: req{form: password(), basic: []string{"conf", ""}}, status: 401, code: "invalid_client", challenge: basicChallenge},
		{name: "public client with client_id alone", req: req{form: password("client_id", "pub")}, status: 200},
		{name: "public client with Basic and an empty secret", req: req{form: password(), basic: []string{"pub", ""}}, status: 200},
		{name: "disabled public client with client_id alone", req: req{form: password("client_id", "pub-disabled")}, status: 401, code: "invalid_client"},
		{name: "disabled public client with Basic and an empty secret", req: req{form: password(), basic: []string{"pub-disabled", ""}}, status: 401, code: "invalid_client", challenge: basicChallenge},
		{name: "public client presenting a secret", req: req{form: password("client_id", "pub", "client_secret", "guess")}, status: 401, code: "invalid_client"},
		{name: "public client never gets client_credentials", req: req{form: url.Values{"grant_type": {"client_credentials"}, "client_id": {"pub"}}}, status: 401, code: "invalid_client"},
		{name: "RFC 6749 §5.2: public client with Basic and an empty secret never gets client_credentials, and is challenged",
			req: req{form: url.Values{"grant_type": {"client_credentials"}}, basic: []string{"pub", ""}}, status: 401, code: "invalid_client", challenge: basicChallenge},
		{name: "unknown client with client_id alone", req: req{form: password("client_id", "nobody")}, status: 401, code: "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			w := e.do(tc.req)
			if tc.code == "" {
				assertToken(t, w)
				return
			}
			assertError(t, w, tc.status, tc.code)
			assert.Equal(t, tc.challenge, w.Header().Get("WWW-Authenticate"))
		})
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestPasswordGrantResponse(t *testing.T) {
	e := newEnv(t, nil)
	w := e.do(req{form: password(), basic: conf})
	m := assertToken(t, w)
	assert.Equal(t, float64(3600), m["expires_in"])
	assert.Equal(t, "read", m["scope"], "client's default scopes")
	assert.Equal(t, "user-1", m["user_id"])
	assert.True(t, strings.HasPrefix(m["refresh_token"].(string), "ort_"))
	assert.Len(t, m, 6, "exactly the documented fields: %v", m)
	assert.NotContains(t, w.Body.String(), ".0", "expires_in is an integer")

	ti, err := e.validate(m["access_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, "conf", ti.Grant.ClientID)
	assert.Equal(t, "user-1", ti.Grant.UserID)
	assert.Equal(t, []string{"read"}, ti.EffectiveScopes())
	assert.True(t, e.clock.Now().Add(time.Hour).Equal(ti.Token.ExpiresAt), "expires in one hour")
}

func TestPasswordGrantTTLs(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.AccessTokenTTL = 90 * time.Second; c.RefreshTokenTTL = time.Hour })
	m := e.issue(t)
	assert.Equal(t, float64(90), m["expires_in"])
	e.clock.Advance(89 * time.Second)
	_, err := e.validate(m["access_token"].(string))
	require.NoError(t, err)
	e.clock.Advance(time.Second)
	_, err = e.validate(m["access_token"].(string))
	assert.ErrorIs(t, err, provider.ErrInvalidToken)
}

func TestPasswordGrantNoRefreshTokenWhenClientMayNotRefresh(t *testing.T) {
	e := newEnv(t, nil)
	m := assertToken(t, e.do(req{form: password(), basic: []string{"no-refresh", confSecret}}))
	assert.NotContains(t, m, "refresh_token")
	assert.Equal(t, "profile", m["scope"], "a client with no scopes gets the provider's defaults")
}

func TestPasswordGrantWrongPasswordAndUnknownUserAreIdentical(t *testing.T) {
	e := newEnv(t, nil)
	wrong := e.do(req{form: password("password", "nope"), basic: conf})
	unknown := e.do(req{form: password("username", "mallory"), basic: conf})
	assertError(t, wrong, 400, "invalid_grant")
	assert.Equal(t, wrong.Code, unknown.Code)
	assert.Equal(t, wrong.Header(), unknown.Header())
	assert.Equal(t, wrong.Body.Bytes(), unknown.Body.Bytes())
	assert.NotContains(t, wrong.Body.String(), "nope")
}

func TestPasswordGrantUserDatabaseFailureIs503(t *testing.T) {
	e := newEnv(t, nil)
	w := e.do(req{form: password("username", "down"), basic: conf})
	assertError(t, w, 503, "temporarily_unavailable")
	assert.NotContains(t, w.Body.String(), "connection refused", "no internal detail on the wire")
	assert.Equal(t, int64(0), e.store.calls.Load(), "no grant was made")
}

func TestScopeRules(t *testing.T) {
	tests := []struct {
		name   string
		client []string
		scope  string
		want   string // scope in the response, or the error code
		err    bool
	}{
		{name: "omitted scope gives the client's DefaultScopes", client: conf, want: "read"},
		{name: "omitted scope gives the provider's DefaultScopes when the client has none and no Scopes", client: []string{"no-refresh", confSecret}, want: "profile"},
		{name: "omitted scope gives no provider default the client may not ask for", client: []string{"other", otherSecret}, want: ""},
		{name: "requested scopes are granted", client: conf, scope: "read write", want: "read write"},
		{name: "repeated spaces and duplicates collapse", client: conf, scope: "write  read write", want: "write read"},
		{name: "unknown scope is invalid_scope", client: conf, scope: "read nuke", want: "invalid_scope", err: true},
		{name: "known scope the client may not have is invalid_scope", client: conf, scope: "admin", want: "invalid_scope", err: true},
		{name: "client without Scopes may ask only for the provider's defaults", client: []string{"no-refresh", confSecret}, scope: "profile", want: "profile"},
		{name: "client without Scopes may not ask for other scopes", client: []string{"no-refresh", confSecret}, scope: "read", want: "invalid_scope", err: true},
		{name: "malformed scope token is invalid_scope", client: conf, scope: `read "write"`, want: "invalid_scope", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			w := e.do(req{form: password("scope", tc.scope), basic: tc.client})
			if tc.err {
				assertError(t, w, 400, tc.want)
				return
			}
			tok := assertToken(t, w)
			if tc.want == "" {
				assert.NotContains(t, tok, "scope", "no scope granted")
				return
			}
			assert.Equal(t, tc.want, tok["scope"])
		})
	}
}

// A request that names no scope gets the client's DefaultScopes only as
// far as it could ask for them by name: a default scope outside the
// client's Scopes (or, for a client without Scopes, outside the provider's
// DefaultScopes), or unknown to the provider, is not given unasked, as a
// provider default the client may not ask for is not (oauth2ctl client
// create --default-scopes admin, without --scopes, makes such a client).
func TestDefaultScopesGrantNothingTheClientCouldNotAskFor(t *testing.T) {
	tests := []struct {
		name          string
		scopes        []string
		defaultScopes []string
		want          string
	}{
		{name: "client without Scopes, default outside the provider's defaults", defaultScopes: []string{"admin"}, want: ""},
		{name: "client without Scopes, defaults partly the provider's", defaultScopes: []string{"admin", "profile"}, want: "profile"},
		{name: "default outside the client's Scopes", scopes: []string{"read"}, defaultScopes: []string{"read", "admin"}, want: "read"},
		{name: "default unknown to the provider", scopes: []string{"read", "nuke"}, defaultScopes: []string{"nuke", "read"}, want: "read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{
				ID: "dflt", SecretHash: storage.HashGeneratedSecret(confSecret),
				GrantTypes: []string{storage.GrantPassword}, Scopes: tc.scopes, DefaultScopes: tc.defaultScopes,
			}))
			client := []string{"dflt", confSecret}
			for _, s := range tc.defaultScopes {
				if !strings.Contains(" "+tc.want+" ", " "+s+" ") {
					assertError(t, e.do(req{form: password("scope", s), basic: client}), 400, "invalid_scope")
				}
			}
			tok := assertToken(t, e.do(req{form: password(), basic: client}))
			if tc.want == "" {
				assert.NotContains(t, tok, "scope", "no scope granted")
				return
			}
			assert.Equal(t, tc.want, tok["scope"])
		})
	}
}

func TestScopeNotInProviderScopesIsInvalid(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.Scopes = []string{"read"}; c.DefaultScopes = nil })
	assertError(t, e.do(req{form: password("scope", "write"), basic: conf}), 400, "invalid_scope")
	assertToken(t, e.do(req{form: password("scope", "read"), basic: conf}))
}

func refresh(tok string, kv ...string) url.Values {
	return with(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}}, kv...)
}

func TestRefreshGrantRotates(t *testing.T) {
	e := newEnv(t, nil)
	first := e.issue(t, "scope", "read write")
	rt := first["refresh_token"].(string)
	e.clock.Advance(2 * time.Hour) // the access token expired
	_, err := e.validate(first["access_token"].(string))
	require.ErrorIs(t, err, provider.ErrInvalidToken)

	m := assertToken(t, e.do(req{form: refresh(rt), basic: conf}))
	assert.Equal(t, float64(3600), m["expires_in"])
	assert.Equal(t, "read write", m["scope"])
	assert.Equal(t, "user-1", m["user_id"])
	assert.NotEqual(t, rt, m["refresh_token"])
	ti, err := e.validate(m["access_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, []string{"read", "write"}, ti.EffectiveScopes())

	// The new refresh token works in turn.
	m2 := assertToken(t, e.do(req{form: refresh(m["refresh_token"].(string)), basic: conf}))
	_, err = e.validate(m2["access_token"].(string))
	require.NoError(t, err)
}

func TestRefreshGrantReuseRevokesTheGrant(t *testing.T) {
	e := newEnv(t, nil)
	rt := e.issue(t)["refresh_token"].(string)
	m := assertToken(t, e.do(req{form: refresh(rt), basic: conf}))

	assertError(t, e.do(req{form: refresh(rt), basic: conf}), 400, "invalid_grant")
	_, err := e.validate(m["access_token"].(string))
	assert.ErrorIs(t, err, provider.ErrInvalidToken, "reuse revoked the whole grant")
	assertError(t, e.do(req{form: refresh(m["refresh_token"].(string)), basic: conf}), 400, "invalid_grant")
}

func TestRefreshGrantScopeRules(t *testing.T) {
	e := newEnv(t, nil)
	rt := e.issue(t, "scope", "read write")["refresh_token"].(string)

	// Widening fails and consumes nothing.
	assertError(t, e.do(req{form: refresh(rt, "scope", "read admin"), basic: conf}), 400, "invalid_scope")

	// Narrowing gives the new access token the narrower scope.
	m := assertToken(t, e.do(req{form: refresh(rt, "scope", "read"), basic: conf}))
	assert.Equal(t, "read", m["scope"])
	ti, err := e.validate(m["access_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, []string{"read"}, ti.EffectiveScopes())
	assert.Equal(t, []string{"read", "write"}, ti.Grant.Scopes)

	// The rotated refresh token keeps the grant's scope.
	m = assertToken(t, e.do(req{form: refresh(m["refresh_token"].(string)), basic: conf}))
	assert.Equal(t, "read write", m["scope"])
}

func TestRefreshGrantRules(t *testing.T) {
	tests := []struct {
		name   string
		req    func(rt, at string) req
		status int
		code   string
		// consumed says whether the refresh token is used up afterwards.
		consumed bool
	}{
		{name: "missing refresh_token", req: func(rt, at string) req { return req{form: refresh(""), basic: conf} }, status: 400, code: "invalid_request"},
		{name: "empty refresh_token counts as missing", req: func(rt, at string) req { return req{rawBody: "grant_type=refresh_token&refresh_token=", basic: conf} }, status: 400, code: "invalid_request"},
		{name: "malformed refresh token", req: func(rt, at string) req { return req{form: refresh(corrupt(rt)), basic: conf} }, status: 400, code: "invalid_grant"},
		{name: "access token as refresh token", req: func(rt, at string) req { return req{form: refresh(at), basic: conf} }, status: 400, code: "invalid_grant"},
		{name: "refresh token of another client", req: func(rt, at string) req { return req{form: refresh(rt), basic: []string{"other", otherSecret}} }, status: 400, code: "invalid_grant"},
		{name: "user_id not the grant's user", req: func(rt, at string) req { return req{form: refresh(rt, "user_id", "user-2"), basic: conf} }, status: 400, code: "invalid_grant"},
		{name: "user_id the grant's user", req: func(rt, at string) req { return req{form: refresh(rt, "user_id", "user-1"), basic: conf} }, status: 200, consumed: true},
		{name: "client may not refresh", req: func(rt, at string) req { return req{form: refresh(rt), basic: []string{"cc-only", confSecret}} }, status: 400, code: "unauthorized_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			m := e.issue(t)
			rt, at := m["refresh_token"].(string), m["access_token"].(string)
			w := e.do(tc.req(rt, at))
			if tc.code == "" {
				assertToken(t, w)
			} else {
				assertError(t, w, tc.status, tc.code)
			}
			again := e.do(req{form: refresh(rt), basic: conf})
			if tc.consumed {
				assertError(t, again, 400, "invalid_grant")
			} else {
				assertToken(t, again)
			}
		})
	}
}

func TestRefreshGrantMalformedTokenNeedsNoStoreLookup(t *testing.T) {
	e := newEnv(t, nil)
	for _, rt := range []string{"x", "ort_" + strings.Repeat("A", 71), strings.Repeat("A", 75)} {
		assertError(t, e.do(req{form: refresh(rt), basic: conf}), 400, "invalid_grant")
	}
	assert.Equal(t, int64(0), e.store.calls.Load())
}

func TestRefreshGrantExpiredOrRevoked(t *testing.T) {
	t.Run("expired refresh token is invalid_grant", func(t *testing.T) {
		e := newEnv(t, nil)
		rt := e.issue(t)["refresh_token"].(string)
		e.clock.Advance(30 * 24 * time.Hour)
		assertError(t, e.do(req{form: refresh(rt), basic: conf}), 400, "invalid_grant")
	})
	t.Run("revoked grant is invalid_grant", func(t *testing.T) {
		e := newEnv(t, nil)
		m := e.issue(t)
		ti, err := e.validate(m["access_token"].(string))
		require.NoError(t, err)
		require.NoError(t, e.store.RevokeGrant(context.Background(), ti.Grant.ID))
		assertError(t, e.do(req{form: refresh(m["refresh_token"].(string)), basic: conf}), 400, "invalid_grant")
	})
	t.Run("unknown well-formed refresh token is invalid_grant", func(t *testing.T) {
		e := newEnv(t, nil)
		other := newEnv(t, nil)
		rt := other.issue(t)["refresh_token"].(string)
		assertError(t, e.do(req{form: refresh(rt), basic: conf}), 400, "invalid_grant")
	})
}

func TestClientCredentialsGrant(t *testing.T) {
	e := newEnv(t, nil)
	for _, rq := range []req{
		{form: url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, basic: []string{"cc-only", confSecret}},
		{form: url.Values{"grant_type": {"client_credentials"}, "client_id": {"conf"}, "client_secret": {confSecret}}},
	} {
		m := assertToken(t, e.do(rq))
		assert.NotContains(t, m, "refresh_token")
		assert.NotContains(t, m, "user_id")
		assert.Equal(t, "read", m["scope"])
		ti, err := e.validate(m["access_token"].(string))
		require.NoError(t, err)
		assert.Empty(t, ti.Grant.UserID)
	}
	assertError(t, e.do(req{form: url.Values{"grant_type": {"client_credentials"}, "scope": {"write"}},
		basic: []string{"cc-only", confSecret}}), 400, "invalid_scope")
}

func TestStoreOutageIs503(t *testing.T) {
	outage := errors.New("dial tcp 127.0.0.1:5432: connection refused")
	var rt string // the refresh token of the "refresh exchange fails" case
	tests := []struct {
		name string
		fail func(e *env) req
		// after checks, once the outage is over, that nothing was left
		// half done: e's store is healthy again and healthy is the
		// token handler as it was before the outage.
		after func(t *testing.T, e *env, healthy http.Handler)
	}{
		{name: "client lookup fails", fail: func(e *env) req {
			e.store.setFail(outage)
			return req{form: password(), basic: conf}
		}},
		{name: "grant creation fails", fail: func(e *env) req {
			// GetClient passes, CreateGrant fails. That a failed
			// CreateGrant leaves nothing is the store's contract, checked
			// by storagetest (all or nothing); here the provider must
			// only not answer with tokens.
			e.h = failingWrites(e, outage)
			return req{form: password(), basic: conf}
		}},
		{name: "refresh exchange fails", fail: func(e *env) req {
			rt = e.issue(t)["refresh_token"].(string)
			e.store.setFail(nil)
			e.h = failingWrites(e, outage)
			return req{form: refresh(rt), basic: conf}
		}, after: func(t *testing.T, e *env, healthy http.Handler) {
			w := httptest.NewRecorder()
			healthy.ServeHTTP(w, req{form: refresh(rt), basic: conf}.build())
			assertToken(t, w) // the refresh token was not consumed
		}},
		{name: "request context cancelled", fail: func(e *env) req {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return req{form: password(), basic: conf, ctx: ctx}
		}},
		{name: "request context cancelled before a refresh", fail: func(e *env) req {
			rt = e.issue(t)["refresh_token"].(string)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return req{form: refresh(rt), basic: conf, ctx: ctx}
		}, after: func(t *testing.T, e *env, healthy http.Handler) {
			w := httptest.NewRecorder()
			healthy.ServeHTTP(w, req{form: refresh(rt), basic: conf}.build())
			assertToken(t, w) // the client was gone: nothing was consumed
		}},
		{name: "request deadline exceeded in the user database", fail: func(e *env) req {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			t.Cleanup(cancel)
			return req{form: password("username", "slow"), basic: conf, ctx: ctx}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			healthy := e.h
			rq := tc.fail(e)
			w := e.do(rq)
			assertError(t, w, 503, "temporarily_unavailable")
			assert.Equal(t, "1", w.Header().Get("Retry-After"))
			assert.NotContains(t, w.Body.String(), "5432")
			e.store.setFail(nil)
			if tc.after != nil {
				tc.after(t, e, healthy)
			}
		})
	}
}

// failingWrites returns a token handler over e's store whose writes
// (CreateGrant, ExchangeToken) fail with err.
func failingWrites(e *env, err error) http.Handler {
	wrapped := &failingStore{testStore: e.store, err: err}
	p, perr := provider.New(provider.Config{Clients: wrapped, Tokens: wrapped, Users: users,
		Scopes: []string{"read", "write", "admin", "profile"}, Now: e.clock.Now})
	if perr != nil {
		panic(perr)
	}
	return p.TokenHandler()
}

// failingStore fails every token store write.
type failingStore struct {
	*testStore
	err error
}

func (f *failingStore) CreateGrant(ctx context.Context, g *storage.Grant, tokens ...storage.Token) error {
	return f.err
}

func (f *failingStore) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	return nil, f.err
}

// corrupt changes one character of a token, which its checksum catches.
func corrupt(tok string) string {
	c := byte('A')
	if tok[30] == c {
		c = 'B'
	}
	return tok[:30] + string(c) + tok[31:]
}

// clientsOnly hides every method of a client store but ClientStore's.
type clientsOnly struct{ storage.ClientStore }

func TestTokenEndpointViewsClientsWhenTheStoreCan(t *testing.T) {
	e := newEnv(t, nil)
	e.issue(t)
	assert.Equal(t, int64(1), e.store.views.Load(), "the token endpoint reads the client with ViewClient")

	// A store that cannot view clients is read with GetClient.
	var plain *testStore
	e = newEnv(t, func(c *provider.Config) {
		plain = c.Clients.(*testStore)
		c.Clients = clientsOnly{c.Clients}
	})
	e.issue(t)
	assert.Zero(t, plain.views.Load(), "no ViewClient on a plain ClientStore")
}

// A username or password no user can have (RFC 6749 Appendix A.3, A.4:
// no control character but the tab, valid UTF-8) is a wrong password,
// and the user database is not asked: one that fails on such input
// would turn it into a 503. It is reported, not counted.
func TestPasswordGrantMalformedCredentialsAreInvalid(t *testing.T) {
	var events []provider.Event
	asked := 0
	e := newEnv(t, func(c *provider.Config) {
		c.Users = authcheck.Func(func(_ context.Context, name, pass string) (string, error) {
			asked++
			return "", errors.New("db: invalid byte sequence")
		})
		c.Events = func(_ context.Context, ev provider.Event) { events = append(events, ev) }
	})
	for _, kv := range [][]string{
		{"username", "john\x00doe"}, {"username", "\xff"}, {"username", "a\nb"}, {"username", "del\x7f"},
		{"password", "foo\x00"}, {"password", "\xed\xa0\x80"}, {"password", "\uffff"},
	} {
		w := e.do(req{form: password(kv...), basic: conf})
		assertError(t, w, http.StatusBadRequest, "invalid_grant")
	}
	assert.Zero(t, asked, "the user database was not asked")
	require.Len(t, events, 7)
	for _, ev := range events {
		assert.Equal(t, provider.EventUserAuthFailed, ev.Type)
		assert.Equal(t, "malformed username or password", ev.Reason)
		assert.Equal(t, "conf", ev.ClientID, "the client the password came through is known")
	}
	// A tab and any other character are allowed.
	w := e.do(req{form: password("username", "tab\there", "password", "pässwörd ✓"), basic: conf})
	assertError(t, w, http.StatusServiceUnavailable, "temporarily_unavailable")
	assert.Equal(t, 1, asked)
}

// A request without a body (Body nil, as http.NewRequest makes one with
// no body, which a handler may be given outside net/http's server) is
// 400 invalid_request at every endpoint, before the client is judged.
func TestRequestWithoutBodyIsInvalidRequest(t *testing.T) {
	e := newEnv(t, nil)
	for name, h := range map[string]http.Handler{
		"token": e.p.TokenHandler(), "revocation": e.p.RevokeHandler(), "introspection": e.p.IntrospectHandler(),
	} {
		t.Run(name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodPost, "https://auth.example.com/oauth2/"+name, nil)
			require.NoError(t, err)
			require.Nil(t, r.Body)
			r.TLS = &tls.ConnectionState{}
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assertError(t, w, http.StatusBadRequest, provider.CodeInvalidRequest)
			assert.Equal(t, "missing request body", body(t, w)["error_description"])
			assert.Empty(t, w.Header().Get("WWW-Authenticate"))
		})
	}
}
