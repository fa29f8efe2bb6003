package provider_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

const testIssuer = "https://auth.example.com"

func withIssuer(c *provider.Config) { c.Issuer = testIssuer }

// assertInactive checks the RFC 7662 §2.2 answer for a token that is not
// active: exactly {"active":false}, with no-store.
func assertInactive(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	assert.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body.String())
	assertNoStore(t, w)
	assert.Equal(t, "{\"active\":false}\n", w.Body.String())
}

func TestIntrospectionActiveTokens(t *testing.T) {
	e := newEnv(t, withIssuer)
	introspect := e.p.IntrospectHandler()
	now := e.clock.Now()
	exp := now.Add(time.Hour).Unix()
	m := e.issue(t, "scope", "read write")
	at, rt := m["access_token"].(string), m["refresh_token"].(string)

	for _, tc := range []struct {
		name   string
		rq     req
		expect string
	}{
		{
			name: "RFC 7662 §2.2: an access token's owner learns scope, client_id, sub, username, token_type, exp, iat, iss",
			rq:   req{form: tokenForm(at), basic: conf},
			expect: fmt.Sprintf(`{"active":true,"scope":"read write","client_id":"conf","sub":"user-1","username":"johndoe",
				"token_type":"Bearer","exp":%d,"iat":%d,"iss":%q}`, exp, now.Unix(), testIssuer),
		},
		{
			name: "RFC 7662 §2.1: a resource server (another confidential client) may introspect, with client_secret_post",
			rq:   req{form: tokenForm(at, "client_id", "other", "client_secret", otherSecret)},
			expect: fmt.Sprintf(`{"active":true,"scope":"read write","client_id":"conf","sub":"user-1","username":"johndoe",
				"token_type":"Bearer","exp":%d,"iat":%d,"iss":%q}`, exp, now.Unix(), testIssuer),
		},
		{
			name: "RFC 7662 §2.2: a refresh token is active with its own lifetime and no access token type",
			rq:   req{form: tokenForm(rt), basic: conf},
			expect: fmt.Sprintf(`{"active":true,"scope":"read write","client_id":"conf","sub":"user-1","username":"johndoe",
				"exp":%d,"iat":%d,"iss":%q}`, now.Add(30*24*time.Hour).Unix(), now.Unix(), testIssuer),
		},
		{
			name: "RFC 7662 §2.1: a wrong hint only orders the lookup",
			rq:   req{form: tokenForm(at, "token_type_hint", "refresh_token"), basic: conf},
			expect: fmt.Sprintf(`{"active":true,"scope":"read write","client_id":"conf","sub":"user-1","username":"johndoe",
				"token_type":"Bearer","exp":%d,"iat":%d,"iss":%q}`, exp, now.Unix(), testIssuer),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := call(introspect, tc.rq)
			require.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body.String())
			assertNoStore(t, w)
			assert.JSONEq(t, tc.expect, w.Body.String())
		})
	}

	t.Run("RFC 7662 §4: another client's refresh token is inactive to the caller", func(t *testing.T) {
		w := call(introspect, req{form: tokenForm(rt, "token_type_hint", "refresh_token"), basic: []string{"other", otherSecret}})
		require.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body.String())
		assertNoStore(t, w)
		assert.JSONEq(t, `{"active":false}`, w.Body.String())
		// and it is still live to its owner
		w = call(introspect, req{form: tokenForm(rt), basic: conf})
		assert.Contains(t, w.Body.String(), `"active":true`)
	})

	t.Run("RFC 7662 §2.2: a client_credentials token has no sub", func(t *testing.T) {
		cc := assertToken(t, e.do(req{form: url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, basic: []string{"cc-only", confSecret}}))
		w := call(introspect, req{form: tokenForm(cc["access_token"].(string)), basic: conf})
		assert.JSONEq(t, fmt.Sprintf(`{"active":true,"scope":"read","client_id":"cc-only","token_type":"Bearer","exp":%d,"iat":%d,"iss":%q}`,
			exp, now.Unix(), testIssuer), w.Body.String())
	})
	t.Run("RFC 6749 §6: a narrowed access token shows its own scope", func(t *testing.T) {
		r := assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"read"}}, basic: conf}))
		w := call(introspect, req{form: tokenForm(r["access_token"].(string)), basic: conf})
		assert.Contains(t, w.Body.String(), `"scope":"read",`)
	})
	t.Run("RFC 7662 §2.2: iss is left out without an issuer", func(t *testing.T) {
		e := newEnv(t, nil)
		at := e.issue(t)["access_token"].(string)
		w := call(e.p.IntrospectHandler(), req{form: tokenForm(at), basic: conf})
		assert.NotContains(t, body(t, w), "iss")
		assert.Equal(t, true, body(t, w)["active"])
	})
}

func TestIntrospectionInactiveTokens(t *testing.T) {
	e := newEnv(t, withIssuer)
	introspect := e.p.IntrospectHandler()
	ask := func(tok string) *httptest.ResponseRecorder {
		return call(introspect, req{form: tokenForm(tok), basic: conf})
	}

	t.Run("RFC 7662 §2.2: unknown", func(t *testing.T) {
		m := e.issue(t)
		at := m["access_token"].(string)
		// A well-formed token of a grant that does not exist.
		require.NoError(t, e.store.RevokeGrant(context.Background(), mustGrantID(t, e, at)))
		assertInactive(t, ask(at))
	})
	t.Run("RFC 7662 §2.2: malformed", func(t *testing.T) {
		assertInactive(t, ask("garbage"))
		at := e.issue(t)["access_token"].(string)
		assertInactive(t, ask(corrupt(at)))
	})
	t.Run("RFC 7662 §2.2: revoked at the revocation endpoint", func(t *testing.T) {
		at := e.issue(t)["access_token"].(string)
		assertRevoked200(t, call(e.p.RevokeHandler(), req{form: tokenForm(at), basic: conf}))
		assertInactive(t, ask(at))
	})
	t.Run("RFC 9700 §4.14.2: a consumed refresh token", func(t *testing.T) {
		rt := e.issue(t)["refresh_token"].(string)
		assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic: conf}))
		assertInactive(t, ask(rt))
	})
	t.Run("RFC 7662 §2.2: expired", func(t *testing.T) {
		at := e.issue(t)["access_token"].(string)
		e.clock.Advance(time.Hour)
		assertInactive(t, ask(at))
	})
}

func TestIntrospectionRequestRules(t *testing.T) {
	e := newEnv(t, withIssuer)
	introspect := e.p.IntrospectHandler()
	at := e.issue(t)["access_token"].(string)
	for _, tc := range []struct {
		name      string
		rq        req
		status    int
		code      string
		challenge string
	}{
		{name: "RFC 7662 §2.1: caller authentication is required", rq: req{form: tokenForm(at)}, status: 401, code: "invalid_client", challenge: `Basic realm="test-realm"`},
		{name: "RFC 7662 §2.1: a public client cannot introspect", rq: req{form: tokenForm(at, "client_id", "pub")}, status: 401, code: "invalid_client"},
		{name: "RFC 7662 §2.1: a public client cannot introspect with Basic either", rq: req{form: tokenForm(at), basic: []string{"pub", ""}}, status: 401, code: "invalid_client", challenge: `Basic realm="test-realm"`},
		{name: "RFC 6749 §2.3.1: a wrong secret is invalid_client", rq: req{form: tokenForm(at), basic: []string{"conf", otherSecret}}, status: 401, code: "invalid_client", challenge: `Basic realm="test-realm"`},
		{name: "RFC 6749 §2.3.1: a disabled client is invalid_client", rq: req{form: tokenForm(at), basic: []string{"disabled", confSecret}}, status: 401, code: "invalid_client", challenge: `Basic realm="test-realm"`},
		{name: "RFC 7662 §2.1: missing token is invalid_request", rq: req{form: url.Values{}, basic: conf}, status: 400, code: "invalid_request"},
		{name: "RFC 7662 §2.1: POST only", rq: req{method: http.MethodGet, basic: conf}, status: 405, code: "invalid_request"},
		{name: "RFC 7662 §4: TLS is required", rq: req{form: tokenForm(at), basic: conf, plainHTTP: true}, status: 400, code: "invalid_request"},
		{name: "RFC 7662 §2.1: form-encoded body required", rq: req{rawBody: `{"token":"x"}`, contentType: "application/json", basic: conf}, status: 400, code: "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := call(introspect, tc.rq)
			assertError(t, w, tc.status, tc.code)
			assert.Equal(t, tc.challenge, w.Header().Get("WWW-Authenticate"))
			assert.NotContains(t, w.Body.String(), "active")
		})
	}
}

func TestIntrospectionStoreOutageIs503(t *testing.T) {
	var ft *flakyTokens
	e := newEnv(t, func(c *provider.Config) {
		ft = &flakyTokens{TokenStore: c.Tokens}
		c.Tokens = ft
	})
	at := e.issue(t)["access_token"].(string)
	ft.lookupErr = errors.New("i/o timeout")
	w := call(e.p.IntrospectHandler(), req{form: tokenForm(at), basic: conf})
	assertError(t, w, 503, "temporarily_unavailable")
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.NotContains(t, w.Body.String(), "timeout")
}

// TestIntrospectionExpiryIsTheProvidersClock: a token is expired from its
// expires_at on, by the provider's clock, even when the store (whose
// clock lags) still returns it: introspection and revocation must not
// take it for live at that instant.
func TestIntrospectionExpiryIsTheProvidersClock(t *testing.T) {
	providerClock := newClock()
	e := newEnv(t, func(c *provider.Config) {
		withIssuer(c)
		c.Now = providerClock.Now // the store keeps e.clock, which stays behind
	})
	introspect := e.p.IntrospectHandler()
	at := e.issue(t)["access_token"].(string)

	providerClock.Advance(time.Hour - time.Nanosecond)
	w := call(introspect, req{form: tokenForm(at), basic: conf})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, true, body(t, w)["active"], "live until its last instant")

	providerClock.Advance(time.Nanosecond) // now == expires_at
	assertInactive(t, call(introspect, req{form: tokenForm(at), basic: conf}))
	// Revoking it changes nothing, and is not refused as another client's.
	assertRevoked200(t, call(e.p.RevokeHandler(), req{form: tokenForm(at), basic: []string{"other", otherSecret}}))
}

// grantSwappingStore returns, for every token it looks up, another grant
// than the one the token names, as a store with a broken index could.
type grantSwappingStore struct {
	storage.TokenStore
}

func (s grantSwappingStore) LookupToken(ctx context.Context, kind storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	ti, err := s.TokenStore.LookupToken(ctx, kind, ref)
	if err == nil {
		ti.Grant.ID = "another-grant-of-the-store"
	}
	return ti, err
}

// TestIntrospectionTokenMustBelongToTheGrantItNames: a token the store
// returns with a grant other than the one its text names is no live
// token: inactive at introspection, and not revoked (nor refused) at the
// revocation endpoint, which would otherwise revoke that other grant.
func TestIntrospectionTokenMustBelongToTheGrantItNames(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.Tokens = grantSwappingStore{c.Tokens} })
	at := e.issue(t)["access_token"].(string)
	assertInactive(t, call(e.p.IntrospectHandler(), req{form: tokenForm(at), basic: conf}))
	assertRevoked200(t, call(e.p.RevokeHandler(), req{form: tokenForm(at), basic: []string{"other", otherSecret}}))
}

// TestIntrospectionIatIsTheTokensIssue: RFC 7662 §2.2's iat is when the
// token was issued: for the tokens of a refresh, the refresh, not when
// the grant began.
func TestIntrospectionIatIsTheTokensIssue(t *testing.T) {
	e := newEnv(t, withIssuer)
	rt := e.issue(t)["refresh_token"].(string)
	e.clock.Advance(10 * time.Minute)
	now := e.clock.Now()
	m := assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic: conf}))
	for _, tok := range []string{m["access_token"].(string), m["refresh_token"].(string)} {
		w := call(e.p.IntrospectHandler(), req{form: tokenForm(tok), basic: conf})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		got := body(t, w)
		assert.Equal(t, float64(now.Unix()), got["iat"])
	}
}

// The 405 of each endpoint names that endpoint and says what it accepts.
func TestNonPostNamesTheEndpoint(t *testing.T) {
	e := newEnv(t, nil)
	for name, h := range map[string]http.Handler{"introspection": e.p.IntrospectHandler(), "revocation": e.p.RevokeHandler()} {
		w := call(h, req{method: http.MethodGet, basic: conf})
		assertError(t, w, http.StatusMethodNotAllowed, "invalid_request")
		assert.Equal(t, http.MethodPost, w.Header().Get("Allow"), name)
		assert.Equal(t, "the "+name+" endpoint accepts POST only", body(t, w)["error_description"], name)
	}
}
