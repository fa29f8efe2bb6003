package provider_test

import (
	"context"
	"errors"
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

// call sends rq to handler h.
func call(h http.Handler, rq req) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, rq.build())
	return w
}

// tokenForm is a revocation or introspection form for tok with extra pairs.
func tokenForm(tok string, kv ...string) url.Values {
	return with(url.Values{"token": {tok}}, kv...)
}

// flakyTokens is a token store whose lookups and revocations fail on
// demand, for outage tests that still let clients authenticate.
type flakyTokens struct {
	storage.TokenStore
	lookupErr, revokeErr, exchangeErr error
}

func (f *flakyTokens) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	if f.exchangeErr != nil {
		return nil, f.exchangeErr
	}
	return f.TokenStore.ExchangeToken(ctx, x)
}

func (f *flakyTokens) LookupToken(ctx context.Context, k storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	if f.lookupErr != nil {
		return nil, f.lookupErr
	}
	return f.TokenStore.LookupToken(ctx, k, ref)
}

func (f *flakyTokens) RevokeGrant(ctx context.Context, id string) error {
	if f.revokeErr != nil {
		return f.revokeErr
	}
	return f.TokenStore.RevokeGrant(ctx, id)
}

// assertRevoked200 checks the RFC 7009 §2.2 success answer: 200, empty
// body, no-store.
func assertRevoked200(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	assert.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body.String())
	assert.Empty(t, w.Body.String())
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Equal(t, "no-cache", w.Header().Get("Pragma"))
}

func TestRevocationRevokesTheGrant(t *testing.T) {
	// Each case issues a fresh grant to conf and revokes one of its
	// tokens: afterwards neither the access token validates nor the
	// refresh token refreshes.
	for _, tc := range []struct {
		name  string
		which string // "access" or "refresh"
		hint  string
	}{
		{name: "RFC 7009 §2.1: access token without hint", which: "access"},
		{name: "RFC 7009 §2.1: refresh token without hint", which: "refresh"},
		{name: "RFC 7009 §2.1: access token with its hint", which: "access", hint: "access_token"},
		{name: "RFC 7009 §2.1: refresh token with its hint", which: "refresh", hint: "refresh_token"},
		{name: "RFC 7009 §2.1: a wrong hint still revokes an access token", which: "access", hint: "refresh_token"},
		{name: "RFC 7009 §2.1: a wrong hint still revokes a refresh token", which: "refresh", hint: "access_token"},
		{name: "RFC 7009 §2.2.1: an unknown hint still revokes", which: "refresh", hint: "id_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			m := e.issue(t)
			at, rt := m["access_token"].(string), m["refresh_token"].(string)
			tok := at
			if tc.which == "refresh" {
				tok = rt
			}
			assertRevoked200(t, call(e.p.RevokeHandler(), req{form: tokenForm(tok, "token_type_hint", tc.hint), basic: conf}))

			_, err := e.validate(at)
			assert.ErrorIs(t, err, provider.ErrInvalidToken, "access token still valid")
			assertError(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic: conf}), 400, "invalid_grant")
		})
	}
}

func TestRevocationRules(t *testing.T) {
	e := newEnv(t, nil)
	revoke := e.p.RevokeHandler()
	m := e.issue(t)
	at := m["access_token"].(string)
	stillValid := func(t *testing.T) {
		t.Helper()
		_, err := e.validate(at)
		assert.NoError(t, err, "the token must survive")
	}

	t.Run("RFC 7009 §2.2: an unknown token is 200", func(t *testing.T) {
		other := e.issue(t)["access_token"].(string)
		require.NoError(t, e.store.RevokeGrant(context.Background(), mustGrantID(t, e, other)))
		assertRevoked200(t, call(revoke, req{form: tokenForm(other), basic: conf}))
		stillValid(t)
	})
	t.Run("RFC 7009 §2.2: a malformed token is 200", func(t *testing.T) {
		assertRevoked200(t, call(revoke, req{form: tokenForm("not-a-token"), basic: conf}))
		assertRevoked200(t, call(revoke, req{form: tokenForm(corrupt(at)), basic: conf}))
		stillValid(t)
	})
	t.Run("RFC 7009 §2.1: another client's token is not revoked, and the request is refused", func(t *testing.T) {
		w := call(revoke, req{form: tokenForm(at), basic: []string{"other", otherSecret}})
		assertError(t, w, 400, "invalid_grant")
		assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		stillValid(t)
	})
	t.Run("RFC 7009 §2.1: missing token is invalid_request", func(t *testing.T) {
		assertError(t, call(revoke, req{form: url.Values{}, basic: conf}), 400, "invalid_request")
	})
	t.Run("RFC 7009 §2.1: client authentication is required", func(t *testing.T) {
		w := call(revoke, req{form: tokenForm(at)})
		assertError(t, w, 401, "invalid_client")
		assert.Equal(t, `Basic realm="test-realm"`, w.Header().Get("WWW-Authenticate"))
		stillValid(t)
	})
	t.Run("RFC 6749 §2.3.1: a wrong secret is invalid_client", func(t *testing.T) {
		w := call(revoke, req{form: tokenForm(at), basic: []string{"conf", otherSecret}})
		assertError(t, w, 401, "invalid_client")
		assert.Equal(t, `Basic realm="test-realm"`, w.Header().Get("WWW-Authenticate"))
		stillValid(t)
	})
	t.Run("RFC 7009 §2.1: POST only", func(t *testing.T) {
		w := call(revoke, req{method: http.MethodGet, basic: conf})
		assertError(t, w, 405, "invalid_request")
		assert.Equal(t, "POST", w.Header().Get("Allow"))
	})
	t.Run("RFC 7009 §2: TLS is required", func(t *testing.T) {
		assertError(t, call(revoke, req{form: tokenForm(at), basic: conf, plainHTTP: true}), 400, "invalid_request")
		stillValid(t)
	})
	t.Run("RFC 6749 §2.3.1: the token must be in the body, not the URL", func(t *testing.T) {
		assertError(t, call(revoke, req{query: "token=" + at, form: tokenForm(at), basic: conf}), 400, "invalid_request")
		stillValid(t)
	})
	t.Run("RFC 7009 §2.1: a public client revokes its own token with its client_id", func(t *testing.T) {
		pm := assertToken(t, e.do(req{form: password("client_id", "pub")}))
		assertRevoked200(t, call(revoke, req{form: tokenForm(pm["refresh_token"].(string), "client_id", "pub")}))
		_, err := e.validate(pm["access_token"].(string))
		assert.ErrorIs(t, err, provider.ErrInvalidToken)
	})
	t.Run("RFC 7009 §2.1: a spent refresh token still revokes its grant", func(t *testing.T) {
		// A logout that sends the refresh token it holds, which another
		// tab or a lost answer's retry has spent meanwhile, ends the
		// session the user is leaving, as presenting it at the token
		// endpoint would (RFC 9700 §4.14.2).
		m := e.issue(t)
		rt := m["refresh_token"].(string)
		m2 := assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic: conf}))
		for _, hint := range []string{"", "refresh_token", "access_token"} {
			form := tokenForm(rt)
			if hint != "" {
				form.Set("token_type_hint", hint)
			}
			assertRevoked200(t, call(revoke, req{form: form, basic: conf}))
		}
		_, err := e.validate(m2["access_token"].(string))
		assert.ErrorIs(t, err, provider.ErrInvalidToken, "the grant's live tokens end with it")
		assertError(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m2["refresh_token"].(string)}}, basic: conf}), 400, "invalid_grant")
	})
	t.Run("RFC 7009 §2.1: another client's spent refresh token revokes nothing", func(t *testing.T) {
		m := e.issue(t)
		rt := m["refresh_token"].(string)
		m2 := assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic: conf}))
		assertRevoked200(t, call(revoke, req{form: tokenForm(rt), basic: []string{"other", otherSecret}}))
		_, err := e.validate(m2["access_token"].(string))
		assert.NoError(t, err, "another client cannot end the grant")
		assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m2["refresh_token"].(string)}}, basic: conf}))
	})
}

func TestRevocationStoreOutageIs503(t *testing.T) {
	var ft *flakyTokens
	e := newEnv(t, func(c *provider.Config) {
		ft = &flakyTokens{TokenStore: c.Tokens}
		c.Tokens = ft
	})
	at := e.issue(t)["access_token"].(string)
	down := errors.New("connection refused")

	ft.lookupErr = down
	w := call(e.p.RevokeHandler(), req{form: tokenForm(at), basic: conf})
	assertError(t, w, 503, "temporarily_unavailable")
	assert.NotContains(t, w.Body.String(), "connection refused")

	ft.lookupErr, ft.revokeErr = nil, down
	assertError(t, call(e.p.RevokeHandler(), req{form: tokenForm(at), basic: conf}), 503, "temporarily_unavailable")

	// A spent refresh token is looked for with the store's exchange.
	ft.revokeErr = nil
	m := e.issue(t)
	assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}, basic: conf}))
	ft.exchangeErr = down
	w = call(e.p.RevokeHandler(), req{form: tokenForm(m["refresh_token"].(string)), basic: conf})
	assertError(t, w, 503, "temporarily_unavailable")
	assert.NotContains(t, w.Body.String(), "connection refused")
	ft.exchangeErr = nil

	e.store.setFail(down) // client lookup too
	assertError(t, call(e.p.RevokeHandler(), req{form: tokenForm(at), basic: conf}), 503, "temporarily_unavailable")
}

// mustGrantID returns the grant of a live access token.
func mustGrantID(t *testing.T, e *env, at string) string {
	t.Helper()
	ti, err := e.validate(at)
	require.NoError(t, err)
	return ti.Grant.ID
}

// ctxTokens is a token store whose lookups and revocations fail once
// their context is done, as a networked store's do.
type ctxTokens struct{ storage.TokenStore }

func (s ctxTokens) LookupToken(ctx context.Context, k storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.TokenStore.LookupToken(ctx, k, ref)
}

func (s ctxTokens) RevokeGrant(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.TokenStore.RevokeGrant(ctx, id)
}

// ctxClients is a client store whose reads fail once their context is
// done, as a networked store's do.
type ctxClients struct{ storage.ClientStore }

func (s ctxClients) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.ClientStore.GetClient(ctx, id)
}

// A client that sends a revocation and goes (a page closing on logout)
// does not cancel it: the client is authenticated, the token looked up
// and the grant revoked all the same, by stores that, as networked ones
// do, fail every call made with a done context.
func TestRevocationOutlivesTheClient(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) {
		c.Tokens = ctxTokens{c.Tokens}
		c.Clients = ctxClients{c.Clients}
	})
	m := e.issue(t)
	for name, rq := range map[string]req{
		"an access token, client_secret_basic": {form: tokenForm(m["access_token"].(string)), basic: conf},
		"a public client's refresh token":      {form: tokenForm(assertToken(t, e.do(req{form: password("client_id", "pub")}))["refresh_token"].(string), "client_id", "pub")},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			w := httptest.NewRecorder()
			e.p.RevokeHandler().ServeHTTP(w, rq.build().WithContext(ctx))
			assertRevoked200(t, w)
			w = call(e.p.IntrospectHandler(), req{form: tokenForm(rq.form.Get("token")), basic: conf})
			assert.JSONEq(t, `{"active":false}`, w.Body.String(), "revoked")
		})
	}
}

// The grant_revoked event of a revocation whose client has gone reaches
// the Events hook with a context that is not cancelled: a hook that
// sends it on (an audit service) would otherwise drop it.
func TestRevocationEventOutlivesTheClient(t *testing.T) {
	var got []any
	e := newEnv(t, func(c *provider.Config) {
		c.Events = func(ctx context.Context, ev provider.Event) {
			if ev.Type == provider.EventGrantRevoked {
				got = append(got, ctx.Err(), ctx.Value(ctxKey{}))
			}
		}
	})
	at := e.issue(t)["access_token"].(string)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "trace-1"))
	cancel()
	w := httptest.NewRecorder()
	e.p.RevokeHandler().ServeHTTP(w, req{form: tokenForm(at), basic: conf}.build().WithContext(ctx))
	assertRevoked200(t, w)
	assert.Equal(t, []any{nil, "trace-1"}, got, "one event, its context not cancelled, its values kept")
}

// ctxKey is a context key of the tests.
type ctxKey struct{}

// A refresh token the store still takes for live, whose expiry the
// provider's clock (ahead of the store's) has passed, is still honoured
// at the token endpoint, which leaves its expiry to the store: revoking
// it must end its grant, or the 200 says revoked while the token goes
// on refreshing.
func TestRevocationOfARefreshTokenTheStoreStillHonours(t *testing.T) {
	providerClock := newClock()
	var events []provider.Event
	e := newEnv(t, func(c *provider.Config) {
		c.Now = providerClock.Now // the store keeps e.clock, which stays behind
		c.RefreshTokenTTL = time.Hour
		c.Events = func(_ context.Context, ev provider.Event) { events = append(events, ev) }
	})
	m := e.issue(t)
	rt := m["refresh_token"].(string)
	grantID := mustGrantID(t, e, m["access_token"].(string))
	providerClock.Advance(time.Hour) // expired by the provider's clock only

	events = nil
	assertRevoked200(t, call(e.p.RevokeHandler(), req{form: tokenForm(rt), basic: conf}))
	require.Len(t, events, 1, "the grant's revocation is reported")
	assert.Equal(t, provider.EventGrantRevoked, events[0].Type)
	assert.Equal(t, grantID, events[0].GrantID)
	assert.Equal(t, "conf", events[0].ClientID)
	assert.Equal(t, "user-1", events[0].UserID)
	assertError(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic: conf}), 400, "invalid_grant")

	// Another client's such token is neither revoked nor refused.
	m = e.issue(t)
	rt = m["refresh_token"].(string)
	providerClock.Advance(time.Hour)
	events = nil
	assertRevoked200(t, call(e.p.RevokeHandler(), req{form: tokenForm(rt), basic: []string{"other", otherSecret}}))
	assert.Empty(t, events)
	assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic: conf}))
}

// forgingTokens is a token store that breaks the ExchangeToken contract
// on demand: when forge is set, an exchange with a Check is not made, and
// Check is called with the grant forge returns instead (or, when forge
// returns nil, the exchange reports success without calling Check).
type forgingTokens struct {
	storage.TokenStore
	forge func() *storage.Grant
}

func (f *forgingTokens) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	if f.forge == nil || x.Check == nil {
		return f.TokenStore.ExchangeToken(ctx, x)
	}
	g := f.forge()
	if g == nil {
		return g, nil
	}
	return nil, x.Check(g)
}

// The revocation of a refresh token that the provider's lookup did not
// take for live trusts the store's exchange only as far as its contract
// goes: a store that hands Check another grant than the presented token
// names, or one of another client, or that reports an exchange Check
// refused as made, gets a 200 and revokes nothing.
func TestRevocationOfASpentTokenTrustsNoStoreBreakingTheContract(t *testing.T) {
	tests := []struct {
		name string
		// forge returns what the store gives Check, given the grant of the
		// presented token and another grant of the same client.
		forge func(own, sibling storage.Grant) *storage.Grant
	}{
		{name: "another grant of the client", forge: func(_, sibling storage.Grant) *storage.Grant { return &sibling }},
		{name: "the token's grant, said to be another client's", forge: func(own, _ storage.Grant) *storage.Grant {
			own.ClientID = "other"
			return &own
		}},
		{name: "an exchange reported as made", forge: func(storage.Grant, storage.Grant) *storage.Grant { return nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			providerClock := newClock()
			var events []provider.Event
			var ft *forgingTokens
			e := newEnv(t, func(c *provider.Config) {
				c.Now = providerClock.Now // the store keeps e.clock, which stays behind
				c.RefreshTokenTTL = time.Hour
				c.Events = func(_ context.Context, ev provider.Event) { events = append(events, ev) }
				ft = &forgingTokens{TokenStore: c.Tokens}
				c.Tokens = ft
			})
			sib := e.issue(t)
			m := e.issue(t)
			rt := m["refresh_token"].(string)
			own, err := e.validate(m["access_token"].(string))
			require.NoError(t, err)
			sibling, err := e.validate(sib["access_token"].(string))
			require.NoError(t, err)
			ft.forge = func() *storage.Grant { return tc.forge(own.Grant, sibling.Grant) }
			providerClock.Advance(time.Hour) // rt expired by the provider's clock only

			events = nil
			assertRevoked200(t, call(e.p.RevokeHandler(), req{form: tokenForm(rt), basic: conf}))
			assert.Empty(t, events, "nothing is reported revoked")

			ft.forge = nil
			// Both grants live on: the store's clock still honours them.
			assertToken(t, e.do(req{form: refresh(rt), basic: conf}))
			assertToken(t, e.do(req{form: refresh(sib["refresh_token"].(string)), basic: conf}))
		})
	}
}
