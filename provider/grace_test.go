package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
)

// With Config.RefreshReuseGrace, a client whose answer to a refresh was
// lost tries again with the refresh token it holds and gets a new pair,
// within the grace, which runs from the token's first use; the pair the
// lost answer held stays valid. Past the grace the token is reuse: 400
// invalid_grant, reported, and the whole grant revoked.
func TestRefreshReuseGrace(t *testing.T) {
	var (
		mu    sync.Mutex
		types []provider.EventType
	)
	e := newEnv(t, func(c *provider.Config) {
		c.RefreshReuseGrace = 30 * time.Second
		c.Events = func(_ context.Context, ev provider.Event) {
			mu.Lock()
			defer mu.Unlock()
			types = append(types, ev.Type)
		}
	})
	rt := e.issue(t)["refresh_token"].(string)
	lost := assertToken(t, e.do(req{form: refresh(rt), basic: conf}))

	e.clock.Advance(20 * time.Second)
	again := assertToken(t, e.do(req{form: refresh(rt), basic: conf}))
	assert.NotEqual(t, lost["access_token"], again["access_token"])
	assert.NotEqual(t, lost["refresh_token"], again["refresh_token"])
	assert.Equal(t, lost["scope"], again["scope"])
	assert.Equal(t, "user-1", again["user_id"])
	for _, m := range []map[string]any{lost, again} {
		_, err := e.validate(m["access_token"].(string))
		require.NoError(t, err, "both pairs are valid")
	}
	// Presenting it again with a narrower scope runs the checks of any
	// refresh: a scope beyond the grant's is refused, and consumes nothing.
	assertError(t, e.do(req{form: refresh(rt, "scope", "admin"), basic: conf}), 400, "invalid_scope")
	assertError(t, e.do(req{form: refresh(rt, "user_id", "user-2"), basic: conf}), 400, "invalid_grant")
	_, err := e.validate(again["access_token"].(string))
	require.NoError(t, err, "a refused request within the grace revokes nothing")

	e.clock.Advance(10 * time.Second) // 30 s after the first use
	assertError(t, e.do(req{form: refresh(rt), basic: conf}), 400, "invalid_grant")
	for _, m := range []map[string]any{lost, again} {
		_, err := e.validate(m["access_token"].(string))
		assert.ErrorIs(t, err, provider.ErrInvalidToken, "reuse past the grace revoked the grant")
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, types, provider.EventRefreshReuse)
}

// Without RefreshReuseGrace, the default, the second presentation is
// reuse at once.
func TestRefreshReuseGraceOffByDefault(t *testing.T) {
	e := newEnv(t, nil)
	rt := e.issue(t)["refresh_token"].(string)
	m := assertToken(t, e.do(req{form: refresh(rt), basic: conf}))
	e.clock.Advance(time.Millisecond)
	assertError(t, e.do(req{form: refresh(rt), basic: conf}), 400, "invalid_grant")
	_, err := e.validate(m["access_token"].(string))
	assert.ErrorIs(t, err, provider.ErrInvalidToken)
}

// New refuses a negative grace and one past MaxRefreshReuseGrace.
func TestRefreshReuseGraceBounds(t *testing.T) {
	for _, g := range []time.Duration{-time.Second, provider.MaxRefreshReuseGrace + time.Nanosecond} {
		_, err := provider.New(provider.Config{Clients: newTestStore(time.Now), Tokens: newTestStore(time.Now), RefreshReuseGrace: g})
		assert.ErrorContains(t, err, "RefreshReuseGrace", "%v", g)
	}
	_, err := provider.New(provider.Config{Clients: newTestStore(time.Now), Tokens: newTestStore(time.Now),
		RefreshReuseGrace: provider.MaxRefreshReuseGrace, AllowInsecureHTTP: true})
	assert.NoError(t, err)
}

// Within RefreshReuseGrace, presenting the spent refresh token at the
// revocation endpoint (a logout) still revokes its grant: the grace is
// the token endpoint's alone. With binding, a retry within the grace from
// the bound user agent refreshes, and one from another user agent ends
// the grant, as any refresh from there does.
func TestRefreshReuseGraceRevocationAndBinding(t *testing.T) {
	t.Run("revocation", func(t *testing.T) {
		e := newEnv(t, func(c *provider.Config) { c.RefreshReuseGrace = 30 * time.Second })
		rt := e.issue(t)["refresh_token"].(string)
		m := assertToken(t, e.do(req{form: refresh(rt), basic: conf}))
		e.clock.Advance(time.Second)
		assertRevoked200(t, call(e.p.RevokeHandler(), req{form: tokenForm(rt), basic: conf}))
		_, err := e.validate(m["access_token"].(string))
		assert.ErrorIs(t, err, provider.ErrInvalidToken, "the spent token's logout ends the grant")
		assertError(t, e.do(req{form: refresh(rt), basic: conf}), 400, "invalid_grant")
	})
	t.Run("binding", func(t *testing.T) {
		e := newEnv(t, func(c *provider.Config) {
			c.BindingKey = bindingKey
			c.RefreshReuseGrace = 30 * time.Second
		})
		from := func(form url.Values, ua string) *httptest.ResponseRecorder {
			return e.do(req{form: form, basic: conf, remoteAddr: "192.0.2.1:4444", header: http.Header{"User-Agent": {ua}}})
		}
		rt := e.issueFrom(t, "192.0.2.1:4444", "Firefox")["refresh_token"].(string)
		lost := assertToken(t, from(refresh(rt), "Firefox"))
		e.clock.Advance(time.Second)
		again := assertToken(t, from(refresh(rt), "Firefox"))
		assertError(t, from(refresh(rt), "curl/8"), 400, "invalid_grant")
		for _, m := range []map[string]any{lost, again} {
			_, err := e.p.ValidateAccessToken(apiRequest("192.0.2.1:5555", "Firefox", ""), m["access_token"].(string))
			assert.ErrorIs(t, err, provider.ErrInvalidToken, "another user agent within the grace ends the grant")
		}
	})
}

// Within RefreshReuseGrace, once the pair the first refresh gave has been
// used, the client had its answer: the old refresh token presented again
// is reuse, which revokes the grant.
func TestRefreshReuseGraceEndsOnceTheNewTokenIsUsed(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.RefreshReuseGrace = time.Minute })
	rt := e.issue(t)["refresh_token"].(string)
	m := assertToken(t, e.do(req{form: refresh(rt), basic: conf}))
	e.clock.Advance(time.Second)
	m2 := assertToken(t, e.do(req{form: refresh(m["refresh_token"].(string)), basic: conf}))
	e.clock.Advance(time.Second)
	assertError(t, e.do(req{form: refresh(rt), basic: conf}), 400, "invalid_grant")
	_, err := e.validate(m2["access_token"].(string))
	assert.ErrorIs(t, err, provider.ErrInvalidToken, "reuse revoked the grant")
}
