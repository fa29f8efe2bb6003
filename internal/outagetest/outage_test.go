package outagetest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/storeurl"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// storeTimeout bounds each store call of the provider under test.
const storeTimeout = time.Second

// outageBound is how long an answer may take while the store is down or
// stuck: the store timeout plus slack for a loaded machine.
const outageBound = storeTimeout + 2*time.Second

// requestDeadline is the deadline TestRequestContextBoundsAHang gives
// every request, in place of a store timeout.
const requestDeadline = 1500 * time.Millisecond

// app is a quickstart-like provider on a store URL: client "demo" with a
// generated secret, user johndoe, the token endpoint and a route
// protected by policy.Bearer.
type app struct {
	srv    *httptest.Server
	secret string
}

func newApp(t *testing.T, storeURL string) *app {
	t.Helper()
	return newAppBounded(t, storeURL, storeTimeout, 0)
}

// newAppBounded is newApp with each store call bounded by timeout
// (negative: not bounded by the store) and, when deadline is positive,
// each request's context ending after deadline, as an app's own
// middleware (or http.TimeoutHandler) would make it.
func newAppBounded(t *testing.T, storeURL string, timeout, deadline time.Duration) *app {
	t.Helper()
	ctx := context.Background()
	s, err := storeurl.Open(ctx, storeURL, storeurl.Options{Timeout: timeout})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	require.NoError(t, s.Migrate(ctx))
	secret, hash, err := storage.NewClientSecret()
	require.NoError(t, err)
	require.NoError(t, s.Clients.CreateClient(ctx, &storage.Client{
		ID: "demo", SecretHash: hash, CreatedAt: time.Now(),
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken},
		Scopes:     []string{"read"},
	}))
	var users authcheck.Static
	require.NoError(t, users.Add("johndoe", "foobar42", "1"))
	p, err := provider.New(provider.Config{
		Clients: s.Clients, Tokens: s.Tokens, Users: &users,
		Scopes: []string{"read"}, AllowInsecureHTTP: true,
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/oauth2/token", p.TokenHandler())
	mux.Handle("/api/me", policy.Bearer(p)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"ok":true}`))
	})))
	var h http.Handler = mux
	if deadline > 0 {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), deadline)
			defer cancel()
			mux.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	srv := httptest.NewServer(h)
	srv.Client().Timeout = 20 * time.Second // a hang fails the test, not the run
	t.Cleanup(srv.Close)
	return &app{srv: srv, secret: secret}
}

// answer is one HTTP answer and how long it took.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	took   time.Duration
}

func (a *app) do(t *testing.T, req *http.Request) answer {
	t.Helper()
	start := time.Now()
	resp, err := a.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return answer{status: resp.StatusCode, header: resp.Header, body: body, took: time.Since(start)}
}

// token asks for a token with the password grant.
func (a *app) token(t *testing.T) answer {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}}
	req, err := http.NewRequest(http.MethodPost, a.srv.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo", a.secret)
	return a.do(t, req)
}

// me calls the protected route with an access token.
func (a *app) me(t *testing.T, access string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.srv.URL+"/api/me", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+access)
	return a.do(t, req)
}

// accessToken gets a token and returns its access token.
func (a *app) accessToken(t *testing.T) string {
	t.Helper()
	ans := a.token(t)
	require.Equal(t, http.StatusOK, ans.status, ans.body)
	tok, _ := ans.body["access_token"].(string)
	require.NotEmpty(t, tok)
	return tok
}

// assertUnavailable checks the outage answers of both kinds of endpoint.
func assertUnavailable(t *testing.T, a *app, access string) {
	t.Helper()
	ans := a.token(t)
	assert.Equal(t, http.StatusServiceUnavailable, ans.status, "token endpoint: %v", ans.body)
	assert.Equal(t, provider.CodeTemporarilyUnavailable, ans.body["error"], "RFC 6749 §5.2 JSON error")
	assert.Contains(t, ans.header.Get("Content-Type"), "application/json")
	assert.Equal(t, "no-store", ans.header.Get("Cache-Control"))
	assert.Less(t, ans.took, outageBound, "token endpoint answered in %v", ans.took)
	t.Logf("token endpoint during the outage: %d in %v", ans.status, ans.took)

	ans = a.me(t, access)
	assert.Equal(t, http.StatusServiceUnavailable, ans.status, "protected route: %v", ans.body)
	assert.True(t, strings.HasPrefix(ans.header.Get("WWW-Authenticate"), "Bearer realm="),
		"RFC 6750 challenge, got %q", ans.header.Get("WWW-Authenticate"))
	assert.NotContains(t, ans.header.Get("WWW-Authenticate"), "invalid_token", "an outage is not the token's fault")
	assert.Equal(t, provider.CodeTemporarilyUnavailable, ans.body["error"])
	assert.Less(t, ans.took, outageBound, "protected route answered in %v", ans.took)
	t.Logf("protected route during the outage: %d in %v", ans.status, ans.took)
}

// assertRecovers waits (boundedly) for the provider to issue tokens again
// after the server came back, and checks that the old token still works.
func assertRecovers(t *testing.T, a *app, oldAccess string) {
	t.Helper()
	start := time.Now()
	var ans answer
	attempts := 0
	for deadline := start.Add(10 * time.Second); ; {
		attempts++
		ans = a.token(t)
		if ans.status == http.StatusOK || time.Now().After(deadline) {
			break
		}
		require.Equal(t, http.StatusServiceUnavailable, ans.status, "only 503 while recovering: %v", ans.body)
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, http.StatusOK, ans.status, "no recovery: %v", ans.body)
	t.Logf("recovered after %d attempt(s), %v", attempts, time.Since(start))
	newAccess, _ := ans.body["access_token"].(string)
	assert.Equal(t, http.StatusOK, a.me(t, newAccess).status, "a token issued after the outage works")
	assert.Equal(t, http.StatusOK, a.me(t, oldAccess).status, "a token issued before the outage still works")
}

func TestPostgresOutage(t *testing.T) {
	pg := newPostgresServer(t)
	pg.Start(t)
	a := newApp(t, pg.URL())
	access := a.accessToken(t)
	require.Equal(t, http.StatusOK, a.me(t, access).status)

	pg.Stop(t)
	assertUnavailable(t, a, access)

	pg.Start(t) // same port, same data directory
	assertRecovers(t, a, access)
}

func TestRedisOutage(t *testing.T) {
	rs := newRedisServer(t)
	rs.Start(t)
	a := newApp(t, rs.URL())
	access := a.accessToken(t)
	require.Equal(t, http.StatusOK, a.me(t, access).status)

	rs.Stop(t)
	assertUnavailable(t, a, access)

	rs.Start(t) // same port; the append-only file keeps the data
	assertRecovers(t, a, access)
}

// assertHangBounded freezes rs (connections open, no answers), checks
// that a's answers stay bounded 503s, thaws it and checks that a recovers.
func assertHangBounded(t *testing.T, rs *redisServer, a *app, access string) {
	t.Helper()
	rs.Freeze(t)
	thawed := false
	defer func() {
		if !thawed {
			rs.Thaw(t)
		}
	}()
	assertUnavailable(t, a, access)
	rs.Thaw(t)
	thawed = true
	assertRecovers(t, a, access)
}

// A server that hangs (connections open, no answers) is bounded by the
// store timeout, and the provider recovers when it answers again.
func TestRedisHangs(t *testing.T) {
	rs := newRedisServer(t)
	rs.Start(t)
	a := newApp(t, rs.URL())
	access := a.accessToken(t)

	assertHangBounded(t, rs, a, access)
}

// A Postgres that accepts connections but answers no query on the
// provider's tables (another session holds them locked) is bounded by the
// store timeout, and the provider recovers when the lock goes.
func TestPostgresHangs(t *testing.T) {
	pg := newPostgresServer(t)
	pg.Start(t)
	a := newApp(t, pg.URL())
	access := a.accessToken(t)

	ctx := context.Background()
	locker, err := pgx.Connect(ctx, pg.URL())
	require.NoError(t, err)
	defer locker.Close(ctx)
	tx, err := locker.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "lock table oauth2_clients, oauth2_grants, oauth2_tokens in access exclusive mode")
	require.NoError(t, err)
	released := false
	defer func() {
		if !released {
			_ = tx.Rollback(ctx)
		}
	}()
	assertUnavailable(t, a, access)

	require.NoError(t, tx.Rollback(ctx))
	released = true
	assertRecovers(t, a, access)
}

// With no store timeout at all, the request's own context bounds a hung
// store: the answer is a 503 when the request's deadline passes, not a
// hang. The deadline leaves a healthy grant room for its two argon2id
// checks under -race on a loaded machine (500 ms did not, once in CI) and
// is well inside outageBound.
func TestRequestContextBoundsAHang(t *testing.T) {
	rs := newRedisServer(t)
	rs.Start(t)
	a := newAppBounded(t, rs.URL(), -1, requestDeadline)
	access := a.accessToken(t)

	assertHangBounded(t, rs, a, access)
}
