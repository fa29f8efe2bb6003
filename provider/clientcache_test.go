package provider_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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
	rc, mutate := cacheClients(ttl)
	return newEnv(t, mutate), rc
}

// cacheClients returns a remoteClients and the Config change that puts
// it in front of the env's clients with Config.ClientCacheTTL of ttl.
func cacheClients(ttl time.Duration) (*remoteClients, func(*provider.Config)) {
	rc := new(remoteClients)
	return rc, func(c *provider.Config) {
		rc.ClientStore = c.Clients
		c.Clients, c.ClientCacheTTL = rc, ttl
	}
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

// cachedAzEnv is cachedEnv with the authorization endpoint's clients.
func cachedAzEnv(t *testing.T, ttl time.Duration) (*azEnv, *remoteClients) {
	t.Helper()
	rc, mutate := cacheClients(ttl)
	return newAuthzEnv(t, mutate, nil), rc
}

// A code exchange is served from the cache too, and keeps every check
// of the code: its verifier, its redirect URI, its client.
func TestClientCache_CodeExchange(t *testing.T) {
	e, rc := cachedAzEnv(t, time.Minute)
	web := []string{"web", confSecret}
	webCode := func() string { return e.code(t, spaParams("client_id", "web", "redirect_uri", ""), "u1") }
	webExchange := func(code string) url.Values { return exchange(code, "client_id", "", "redirect_uri", "") }
	assertToken(t, e.do(req{form: exchange(e.code(t, spaParams(), "u1"))})) // caches spa
	assertToken(t, e.do(req{form: webExchange(webCode()), basic: web}))     // caches web

	code := e.code(t, spaParams(), "u1")
	n := reads(rc, func() { assertToken(t, e.do(req{form: exchange(code)})) })
	assert.Zero(t, n, "client reads, cached code exchange")

	code = e.code(t, spaParams(), "u1")
	assertError(t, e.do(req{form: exchange(code, "code_verifier", strings.Repeat("a", 50))}), http.StatusBadRequest, "invalid_grant")
	assertError(t, e.do(req{form: exchange(code, "redirect_uri", "https://spa.example/cb2?keep=1")}), http.StatusBadRequest, "invalid_grant")
	assertError(t, e.do(req{form: webExchange(code), basic: web}), http.StatusBadRequest, "invalid_grant")
	assertToken(t, e.do(req{form: exchange(code)}))

	// web is cached, but naming it is not authenticating as it.
	assertError(t, e.do(req{form: exchange(webCode(), "client_id", "web", "redirect_uri", "")}), http.StatusUnauthorized, "invalid_client")
}

// A cached confidential client is not authenticated by its ID alone, in
// the body or as "id:" in Basic.
func TestClientCache_ConfidentialNeedsItsSecret(t *testing.T) {
	e, _ := cachedEnv(t, time.Minute)
	rt := e.issue(t)["refresh_token"].(string)
	rt = assertToken(t, e.do(req{form: refresh(rt), basic: conf}))["refresh_token"].(string) // cached
	assertError(t, e.do(req{form: refresh(rt, "client_id", "conf")}), http.StatusUnauthorized, "invalid_client")
	assertError(t, e.do(req{form: refresh(rt), basic: []string{"conf", ""}}), http.StatusUnauthorized, "invalid_client")
	assertToken(t, e.do(req{form: refresh(rt), basic: conf}))
}

// A cached client that may not use the grant type is read again: a grant
// type just allowed in the store works at once. A code exchange by a
// client without refresh_token is never served from the cache, so that
// allowing refresh_token gives the next code exchange a refresh token.
func TestClientCache_GrantTypeJustAllowed(t *testing.T) {
	e, rc := cachedAzEnv(t, time.Minute)
	params := spaParams("client_id", "code-only", "redirect_uri", "https://codeonly.example/cb")
	ex := func(code string) url.Values {
		return exchange(code, "client_id", "code-only", "redirect_uri", "https://codeonly.example/cb")
	}
	m := assertToken(t, e.do(req{form: ex(e.code(t, params, "u1"))}))
	assert.NotContains(t, m, "refresh_token")
	// Refused by the cached entry, if there were one: read again.
	n := reads(rc, func() {
		assertError(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "client_id": {"code-only"}, "refresh_token": {"ort_x"}}}),
			http.StatusBadRequest, "unauthorized_client")
	})
	assert.EqualValues(t, 1, n, "a refresh by a client without refresh_token")

	c, err := e.store.GetClient(context.Background(), "code-only")
	require.NoError(t, err)
	c.GrantTypes = append(c.GrantTypes, storage.GrantRefreshToken)
	require.NoError(t, e.store.UpdateClient(context.Background(), c))

	code := e.code(t, params, "u1")
	n = reads(rc, func() { m = assertToken(t, e.do(req{form: ex(code)})) })
	assert.EqualValues(t, 1, n, "a code exchange by a client that had no refresh_token")
	rt, _ := m["refresh_token"].(string)
	require.NotEmpty(t, rt, "a code exchange after the store allowed refresh_token")
	n = reads(rc, func() {
		assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "client_id": {"code-only"}, "refresh_token": {rt}}}))
	})
	assert.Zero(t, n, "cached with refresh_token now")
}

// gatedClients holds the next GetClient, once armed, until released.
type gatedClients struct {
	storage.ClientStore
	armed            atomic.Bool
	entered, release chan struct{}
}

func (s *gatedClients) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	c, err := s.ClientStore.GetClient(ctx, id)
	if s.armed.CompareAndSwap(true, false) {
		close(s.entered)
		<-s.release
	}
	return c, err
}

// A refresh that read the client before DisableClient does not put it
// back in the cache after DisableClient dropped it.
func TestClientCache_DisableClientRacingARead(t *testing.T) {
	var gc *gatedClients
	e := newEnv(t, func(c *provider.Config) {
		gc = &gatedClients{ClientStore: c.Clients, entered: make(chan struct{}), release: make(chan struct{})}
		c.Clients, c.ClientCacheTTL = gc, time.Hour
	})
	rt := e.issue(t)["refresh_token"].(string)
	gc.armed.Store(true)
	done := make(chan int)
	go func() { done <- e.do(req{form: refresh(rt), basic: conf}).Code }()
	<-gc.entered // the refresh has read conf, still enabled
	_, err := e.p.DisableClient(context.Background(), "conf")
	require.NoError(t, err)
	close(gc.release)
	assert.Equal(t, http.StatusBadRequest, <-done, "its grant was revoked")

	// Served from a cached conf, a refresh would reach the exchange
	// (invalid_grant); read afresh, conf is disabled (invalid_client).
	assertError(t, e.do(req{form: refresh("ort_bogus"), basic: conf}), http.StatusUnauthorized, "invalid_client")
}

// A client cached for refreshes, then allowed the authorization code
// grant in the store, exchanges its first code at once.
func TestClientCache_CodeGrantJustAllowed(t *testing.T) {
	e, _ := cachedAzEnv(t, time.Minute)
	rt := assertToken(t, e.do(req{form: password("client_id", "pub")}))["refresh_token"].(string)
	assertToken(t, e.do(req{form: refresh(rt, "client_id", "pub")})) // cached, without authorization_code

	c, err := e.store.GetClient(context.Background(), "pub")
	require.NoError(t, err)
	c.GrantTypes = append(c.GrantTypes, storage.GrantAuthorizationCode)
	c.RedirectURIs = []string{"https://pub.example/cb"}
	require.NoError(t, e.store.UpdateClient(context.Background(), c))

	code := e.code(t, spaParams("client_id", "pub", "redirect_uri", "https://pub.example/cb"), "u1")
	assertToken(t, e.do(req{form: exchange(code, "client_id", "pub", "redirect_uri", "https://pub.example/cb")}))
}

// readingClients is a client store whose UpdateClient, when armed, first
// runs hook: a request that reads the client while the update is on its
// way.
type readingClients struct {
	storage.ClientStore
	hook func()
}

func (s *readingClients) UpdateClient(ctx context.Context, c *storage.Client) error {
	if h := s.hook; h != nil {
		s.hook = nil
		h()
	}
	return s.ClientStore.UpdateClient(ctx, c)
}

// A request that reads the client after DisableClient began but before
// the store has it disabled does not leave it cached enabled: the cache
// is dropped once the client is disabled, not before.
func TestClientCache_DisableClientRacingAReadBeforeTheUpdate(t *testing.T) {
	var rc *readingClients
	e := newEnv(t, func(c *provider.Config) {
		rc = &readingClients{ClientStore: c.Clients}
		c.Clients, c.ClientCacheTTL = rc, time.Hour
	})
	rc.hook = func() {
		// Read afresh and cached, still enabled: the refresh reaches the
		// exchange.
		assertError(t, e.do(req{form: refresh("ort_bogus"), basic: conf}), http.StatusBadRequest, "invalid_grant")
	}
	_, err := e.p.DisableClient(context.Background(), "conf")
	require.NoError(t, err)
	assert.Nil(t, rc.hook, "the update ran the request")
	assertError(t, e.do(req{form: refresh("ort_bogus"), basic: conf}), http.StatusUnauthorized, "invalid_client")
}
