package provider_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// remoteClients is a client store that is not a storage.ClientViewer, as
// a networked store is not, counting its reads.
type remoteClients struct {
	storage.ClientStore
	reads atomic.Int64
}

func (s *remoteClients) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	s.reads.Add(1)
	return s.ClientStore.GetClient(ctx, id)
}

// cachedEnv is an env whose clients come from a remoteClients with
// Config.ClientCacheTTL of ttl.
func cachedEnv(t *testing.T, ttl time.Duration) (*env, *remoteClients) {
	t.Helper()
	var rc *remoteClients
	e := newEnv(t, func(c *provider.Config) {
		rc = &remoteClients{ClientStore: c.Clients}
		c.Clients, c.ClientCacheTTL = rc, ttl
	})
	return e, rc
}

// reads runs do and returns how many client reads it made.
func reads(rc *remoteClients, do func()) int64 {
	before := rc.reads.Load()
	do()
	return rc.reads.Load() - before
}

func TestClientCache_RefreshIsOneRoundTrip(t *testing.T) {
	e, rc := cachedEnv(t, 5*time.Second)
	rt := e.issue(t)["refresh_token"].(string)

	// The first refresh reads the client and caches it; later ones, until
	// the TTL passes, reach the store once each: the exchange.
	n := reads(rc, func() { rt = assertToken(t, e.do(req{form: refresh(rt), basic: conf}))["refresh_token"].(string) })
	assert.EqualValues(t, 1, n, "client reads, first refresh")
	e.store.calls.Store(0)
	n = reads(rc, func() { rt = assertToken(t, e.do(req{form: refresh(rt), basic: conf}))["refresh_token"].(string) })
	assert.Zero(t, n, "client reads, cached refresh")
	assert.EqualValues(t, 1, e.store.calls.Load(), "token store calls, cached refresh")

	e.clock.Advance(5 * time.Second)
	n = reads(rc, func() { rt = assertToken(t, e.do(req{form: refresh(rt), basic: conf}))["refresh_token"].(string) })
	assert.EqualValues(t, 1, n, "client reads once the TTL has passed")
	n = reads(rc, func() { assertToken(t, e.do(req{form: refresh(rt), basic: conf})) })
	assert.Zero(t, n, "client reads after the new entry")
}

func TestClientCache_PublicClient(t *testing.T) {
	e, rc := cachedEnv(t, time.Minute)
	rt := assertToken(t, e.do(req{form: password("client_id", "pub")}))["refresh_token"].(string)
	rt = assertToken(t, e.do(req{form: refresh(rt, "client_id", "pub")}))["refresh_token"].(string)
	n := reads(rc, func() { assertToken(t, e.do(req{form: refresh(rt, "client_id", "pub")})) })
	assert.Zero(t, n)
}

// Grants that make a new grant, and the endpoints that let a client read
// or end tokens, never trust the cache: a client disabled in the store
// cannot start anything new on any instance.
func TestClientCache_OnlyExchangesUseIt(t *testing.T) {
	e, rc := cachedEnv(t, time.Minute)
	m := e.issue(t)
	assertToken(t, e.do(req{form: refresh(m["refresh_token"].(string)), basic: conf})) // cached now

	n := reads(rc, func() { e.issue(t) })
	assert.EqualValues(t, 1, n, "password grant")
	n = reads(rc, func() {
		assertToken(t, e.do(req{form: url.Values{"grant_type": {"client_credentials"}}, basic: conf}))
	})
	assert.EqualValues(t, 1, n, "client credentials grant")

	serve := func(h http.Handler, form url.Values) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req{form: form, basic: conf}.build())
		return w.Code
	}
	n = reads(rc, func() {
		assert.Equal(t, http.StatusOK, serve(e.p.IntrospectHandler(), url.Values{"token": {m["access_token"].(string)}}))
	})
	assert.EqualValues(t, 1, n, "introspection")
	n = reads(rc, func() {
		assert.Equal(t, http.StatusOK, serve(e.p.RevokeHandler(), url.Values{"token": {m["access_token"].(string)}}))
	})
	assert.EqualValues(t, 1, n, "revocation")
}

// A secret a person chose is judged on a fresh read every time, since
// failing it must be throttled.
func TestClientCache_NotForChosenSecrets(t *testing.T) {
	e, rc := cachedEnv(t, time.Minute)
	rt := assertToken(t, e.do(req{form: password("scope", "read"), basic: human}))["refresh_token"].(string)
	for range 2 {
		var m map[string]any
		n := reads(rc, func() { m = assertToken(t, e.do(req{form: refresh(rt), basic: human})) })
		assert.EqualValues(t, 1, n)
		rt = m["refresh_token"].(string)
	}
}

// A cached client that refuses a request is read again, so that a change
// in the store that allows more (a new secret) takes effect at once.
func TestClientCache_RefusalReadsAgain(t *testing.T) {
	e, rc := cachedEnv(t, time.Minute)
	rt := e.issue(t)["refresh_token"].(string)
	rt = assertToken(t, e.do(req{form: refresh(rt), basic: conf}))["refresh_token"].(string) // cached

	n := reads(rc, func() {
		assertError(t, e.do(req{form: refresh(rt), basic: []string{"conf", otherSecret}}), http.StatusUnauthorized, "invalid_client")
	})
	assert.EqualValues(t, 1, n, "a wrong secret is judged on a fresh read")

	// Another instance gives conf a new secret in the store.
	const newSecret = "new-secret-0123456789abcdefghijklmnopqrstuvwxy"
	c, err := e.store.GetClient(context.Background(), "conf")
	require.NoError(t, err)
	c.SecretHash = storage.HashGeneratedSecret(newSecret)
	require.NoError(t, e.store.UpdateClient(context.Background(), c))

	rt = assertToken(t, e.do(req{form: refresh(rt), basic: []string{"conf", newSecret}}))["refresh_token"].(string)
	// The old secret's entry was replaced by the new one's.
	assertError(t, e.do(req{form: refresh(rt), basic: conf}), http.StatusUnauthorized, "invalid_client")
	assertToken(t, e.do(req{form: refresh(rt), basic: []string{"conf", newSecret}}))
}

// What the cache may lag on is documented: an old secret, or Disabled set
// in the store without DisableClient, holds for up to the TTL on an
// instance that cached the client.
func TestClientCache_StoreOnlyChangesLagByTheTTL(t *testing.T) {
	e, _ := cachedEnv(t, 10*time.Second)
	rt := e.issue(t)["refresh_token"].(string)
	rt = assertToken(t, e.do(req{form: refresh(rt), basic: conf}))["refresh_token"].(string) // cached

	c, err := e.store.GetClient(context.Background(), "conf")
	require.NoError(t, err)
	c.Disabled = true
	require.NoError(t, e.store.UpdateClient(context.Background(), c))

	e.clock.Advance(9 * time.Second)
	rt = assertToken(t, e.do(req{form: refresh(rt), basic: conf}))["refresh_token"].(string)
	e.clock.Advance(time.Second)
	assertError(t, e.do(req{form: refresh(rt), basic: conf}), http.StatusUnauthorized, "invalid_client")
}

// DisableClient on one instance stops refreshes at once on another whose
// cache still holds the client: its grants are revoked, and the exchange
// refuses them.
func TestClientCache_DisableClientHoldsAcrossInstances(t *testing.T) {
	a, _ := cachedEnv(t, time.Hour)
	// b is a second instance on the same store, with a cache of its own.
	bp, err := provider.New(provider.Config{
		Clients: &remoteClients{ClientStore: a.store}, Tokens: a.store, Users: users,
		Scopes: []string{"read", "write", "admin", "profile"}, Now: a.clock.Now, ClientCacheTTL: time.Hour,
	})
	require.NoError(t, err)
	b := &env{clock: a.clock, store: a.store, p: bp, h: bp.TokenHandler()}

	rtA := a.issue(t)["refresh_token"].(string)
	rtB := b.issue(t)["refresh_token"].(string)
	rtA = assertToken(t, a.do(req{form: refresh(rtA), basic: conf}))["refresh_token"].(string)
	rtB = assertToken(t, b.do(req{form: refresh(rtB), basic: conf}))["refresh_token"].(string) // b caches conf

	n, err := a.p.DisableClient(context.Background(), "conf")
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	assertError(t, a.do(req{form: refresh(rtA), basic: conf}), http.StatusUnauthorized, "invalid_client")
	assertError(t, b.do(req{form: refresh(rtB), basic: conf}), http.StatusBadRequest, "invalid_grant")
	assertError(t, b.do(req{form: password(), basic: conf}), http.StatusUnauthorized, "invalid_client")
}

// An in-process store (a storage.ClientViewer) is read every time: a
// cache would not speed it up, only let it lag.
func TestClientCache_NotForInProcessStores(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.ClientCacheTTL = time.Minute })
	rt := e.issue(t)["refresh_token"].(string)
	for range 2 {
		e.store.views.Store(0)
		rt = assertToken(t, e.do(req{form: refresh(rt), basic: conf}))["refresh_token"].(string)
		assert.EqualValues(t, 1, e.store.views.Load())
	}
}

func TestClientCache_NegativeTTL(t *testing.T) {
	_, err := provider.New(provider.Config{Clients: &remoteClients{}, Tokens: newTestStore(nil), ClientCacheTTL: -time.Second})
	assert.ErrorContains(t, err, "negative ClientCacheTTL")
}

// Refreshes served from the cache race with a client update, entries
// expiring and DisableClient; -race checks the cache.
func TestClientCache_Concurrent(t *testing.T) {
	e, _ := cachedEnv(t, time.Second)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for range 8 {
		rt := e.issue(t)["refresh_token"].(string)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				w := e.do(req{form: refresh(rt), basic: conf})
				if w.Code != http.StatusOK {
					if w.Code != http.StatusUnauthorized && w.Code != http.StatusBadRequest {
						errs <- w.Body.String()
					}
					return
				}
				var m struct {
					RefreshToken string `json:"refresh_token"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m.RefreshToken == "" {
					errs <- w.Body.String()
					return
				}
				rt = m.RefreshToken
			}
		}()
	}
	for range 20 {
		e.clock.Advance(300 * time.Millisecond)
	}
	_, err := e.p.DisableClient(context.Background(), "conf")
	require.NoError(t, err)
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Error(s)
	}
}
