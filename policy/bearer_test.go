package policy_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "policy-test-secret-0123456789abcdefghijklmn"

// flakyStore is the memory store whose token lookups fail while down is
// set, whose grant revocations fail while revokeDown is, whose token
// extensions fail while extendDown is, and whose grant creations fail
// while createDown is; onCreate, when set, runs before each grant
// creation (a slow store advancing the test clock). While ctxBound is
// set, its token lookups fail once their context is done, as a networked
// store's (Postgres, Redis) do.
type flakyStore struct {
	*memory.Store
	down, revokeDown, extendDown, createDown, ctxBound atomic.Bool
	onCreate                                           func()
}

func (s *flakyStore) CreateGrant(ctx context.Context, g *storage.Grant, tokens ...storage.Token) error {
	if s.createDown.Load() {
		return errors.New("redis: i/o timeout")
	}
	if s.onCreate != nil {
		s.onCreate()
	}
	return s.Store.CreateGrant(ctx, g, tokens...)
}

func (s *flakyStore) ExtendToken(ctx context.Context, ref storage.TokenRef, expiresAt time.Time) error {
	if s.extendDown.Load() {
		return errors.New("redis: i/o timeout")
	}
	return s.Store.ExtendToken(ctx, ref, expiresAt)
}

func (s *flakyStore) RevokeGrant(ctx context.Context, grantID string) error {
	if s.revokeDown.Load() {
		return errors.New("redis: i/o timeout")
	}
	return s.Store.RevokeGrant(ctx, grantID)
}

func (s *flakyStore) LookupToken(ctx context.Context, k storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	if s.down.Load() {
		return nil, errors.New("redis: i/o timeout")
	}
	if err := ctx.Err(); err != nil && s.ctxBound.Load() {
		return nil, err
	}
	return s.Store.LookupToken(ctx, k, ref)
}

func (s *flakyStore) LookupTokenInto(ctx context.Context, k storage.TokenKind, ref storage.TokenRef, now time.Time, dst *storage.TokenInfo) error {
	if s.down.Load() {
		return errors.New("redis: i/o timeout")
	}
	return s.Store.LookupTokenInto(ctx, k, ref, now, dst)
}

type env struct {
	now   time.Time
	store *flakyStore
	p     *provider.Provider
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	clock := func() time.Time { return e.now }
	e.store = &flakyStore{Store: memory.New(memory.Config{Now: clock})}
	require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{
		ID: "app", SecretHash: storage.HashGeneratedSecret(secret),
		GrantTypes: []string{storage.GrantPassword, storage.GrantClientCredentials}, Scopes: []string{"read", "write"},
	}))
	p, err := provider.New(provider.Config{
		Clients: e.store, Tokens: e.store, Realm: "api", Now: clock,
		Users: authcheck.Func(func(_ context.Context, u, pw string) (string, error) { return "user-" + u, nil }),
	})
	require.NoError(t, err)
	e.p = p
	return e
}

// token gets an access token over the token endpoint.
func (e *env) token(t testing.TB, form string) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "https://auth.example/oauth2/token", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("app", secret)
	w := httptest.NewRecorder()
	e.p.TokenHandler().ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var m struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m))
	return m.AccessToken
}

// protected is the bearer policy around a handler that echoes the identity.
func (e *env) protected() http.Handler {
	return policy.Bearer(e.p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := policy.IdentityFrom(r.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(id)
	}))
}

func TestBearerRules(t *testing.T) {
	const realm = `Bearer realm="api"`
	invalidToken := `Bearer realm="api", error="invalid_token", error_description="the access token is invalid, expired or revoked"`
	invalidRequest := `Bearer realm="api", error="invalid_request", error_description="malformed Authorization header"`
	tests := []struct {
		name      string
		prepare   func(e *env, tok string) (header []string, target string)
		status    int
		challenge string
		code      string
	}{
		{name: "valid bearer token passes", status: 200,
			prepare: func(e *env, tok string) ([]string, string) { return []string{"Bearer " + tok}, "/" }},
		{name: "scheme is case-insensitive", status: 200,
			prepare: func(e *env, tok string) ([]string, string) { return []string{"bEARER " + tok}, "/" }},
		{name: "several spaces after the scheme", status: 200,
			prepare: func(e *env, tok string) ([]string, string) { return []string{"Bearer   " + tok}, "/" }},
		{name: "no Authorization header is 401 without an error code", status: 401, challenge: realm, code: "unauthorized",
			prepare: func(e *env, tok string) ([]string, string) { return nil, "/" }},
		{name: "another scheme counts as no credentials", status: 401, challenge: realm, code: "unauthorized",
			prepare: func(e *env, tok string) ([]string, string) { return []string{"Basic YXBwOng="}, "/" }},
		{name: "access_token in the URL query is not accepted", status: 401, challenge: realm, code: "unauthorized",
			prepare: func(e *env, tok string) ([]string, string) { return nil, "/?access_token=" + tok }},
		{name: "a token in the header and in the URL query is invalid_request (RFC 6750 §3.1: one method only)", status: 400,
			challenge: `Bearer realm="api", error="invalid_request", error_description="an access token must not be sent in the URL"`, code: "invalid_request",
			prepare: func(e *env, tok string) ([]string, string) {
				return []string{"Bearer " + tok}, "/?a=1&access_token=" + tok
			}},
		{name: "an escaped access_token key in the query counts too", status: 400,
			challenge: `Bearer realm="api", error="invalid_request", error_description="an access token must not be sent in the URL"`, code: "invalid_request",
			prepare: func(e *env, tok string) ([]string, string) { return []string{"Bearer " + tok}, "/?access%5Ftoken=x" }},
		{name: "other query parameters are fine", status: 200,
			prepare: func(e *env, tok string) ([]string, string) { return []string{"Bearer " + tok}, "/?access=1&token=2" }},
		{name: "scheme without a token is invalid_request", status: 400, challenge: invalidRequest, code: "invalid_request",
			prepare: func(e *env, tok string) ([]string, string) { return []string{"Bearer"}, "/" }},
		{name: "two tokens are invalid_request", status: 400, challenge: invalidRequest, code: "invalid_request",
			prepare: func(e *env, tok string) ([]string, string) { return []string{"Bearer " + tok + " " + tok}, "/" }},
		{name: "a trailing comma is no b64token: invalid_request, not the token", status: 400, challenge: invalidRequest, code: "invalid_request",
			prepare: func(e *env, tok string) ([]string, string) { return []string{"Bearer " + tok + ","}, "/" }},
		{name: "a trailing comma is no b64token after any spelling of the scheme", status: 400, challenge: invalidRequest, code: "invalid_request",
			prepare: func(e *env, tok string) ([]string, string) { return []string{"bearer  " + tok + ","}, "/" }},
		{name: "a scheme without a token is malformed before a token in the URL is looked for", status: 400, challenge: invalidRequest, code: "invalid_request",
			prepare: func(e *env, tok string) ([]string, string) { return []string{"Bearer  "}, "/?access_token=" + tok }},
		{name: "characters outside b64token are invalid_request", status: 400, challenge: invalidRequest, code: "invalid_request",
			prepare: func(e *env, tok string) ([]string, string) { return []string{"Bearer " + tok + ",x"}, "/" }},
		{name: "padding alone is no b64token: invalid_request", status: 400, challenge: invalidRequest, code: "invalid_request",
			prepare: func(e *env, tok string) ([]string, string) { return []string{"Bearer ==="}, "/" }},
		{name: "two Authorization headers are invalid_request", status: 400, challenge: invalidRequest, code: "invalid_request",
			prepare: func(e *env, tok string) ([]string, string) { return []string{"Bearer " + tok, "Bearer " + tok}, "/" }},
		{name: "malformed token is invalid_token", status: 401, challenge: invalidToken, code: "invalid_token",
			prepare: func(e *env, tok string) ([]string, string) { return []string{"Bearer abc.def~+/=="}, "/" }},
		{name: "unknown token is invalid_token", status: 401, challenge: invalidToken, code: "invalid_token",
			prepare: func(e *env, tok string) ([]string, string) {
				return []string{"Bearer " + newEnv(t).token(t, "grant_type=password&username=x&password=y")}, "/"
			}},
		{name: "expired token is invalid_token", status: 401, challenge: invalidToken, code: "invalid_token",
			prepare: func(e *env, tok string) ([]string, string) {
				e.now = e.now.Add(time.Hour)
				return []string{"Bearer " + tok}, "/"
			}},
		{name: "revoked token is invalid_token", status: 401, challenge: invalidToken, code: "invalid_token",
			prepare: func(e *env, tok string) ([]string, string) {
				_, err := e.store.RevokeUser(context.Background(), "user-johndoe")
				require.NoError(t, err)
				return []string{"Bearer " + tok}, "/"
			}},
		{name: "store outage is 503 with a challenge", status: 503, challenge: realm, code: "temporarily_unavailable",
			prepare: func(e *env, tok string) ([]string, string) {
				e.store.down.Store(true)
				return []string{"Bearer " + tok}, "/"
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tok := e.token(t, "grant_type=password&username=johndoe&password=x&scope=read")
			header, target := tc.prepare(e, tok)
			r := httptest.NewRequest(http.MethodGet, "https://api.example"+target, nil)
			for _, h := range header {
				r.Header.Add("Authorization", h)
			}
			w := httptest.NewRecorder()
			e.protected().ServeHTTP(w, r)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.status == 200 {
				var id policy.Identity
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &id))
				assert.Equal(t, "user-johndoe", id.UserID)
				assert.Equal(t, "app", id.ClientID)
				assert.Equal(t, []string{"read"}, id.Scopes)
				assert.Equal(t, policy.MethodBearer, id.Method)
				assert.NotEmpty(t, id.GrantID)
				return
			}
			assert.Equal(t, tc.challenge, w.Header().Get("WWW-Authenticate"))
			assert.Equal(t, "application/json;charset=utf-8", w.Header().Get("Content-Type"))
			if tc.status == http.StatusServiceUnavailable {
				assert.Equal(t, "1", w.Header().Get("Retry-After"))
			} else {
				assert.Empty(t, w.Header().Values("Retry-After"))
			}
			var m map[string]string
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m))
			assert.Equal(t, tc.code, m["error"])
			assert.NotContains(t, w.Body.String(), tok)
		})
	}
}

// An access token narrowed at a refresh (RFC 6749 §6) carries its own
// scopes, fewer than its grant's: the Identity has the token's, so that
// Require does not grant it what the refresh gave up.
func TestBearerIdentityHasTheTokensNarrowedScopes(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{
		ID: "rt", SecretHash: storage.HashGeneratedSecret(secret),
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken}, Scopes: []string{"read", "write"},
	}))
	post := func(form string) map[string]any {
		r := httptest.NewRequest(http.MethodPost, "https://auth.example/oauth2/token", strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("rt", secret)
		w := httptest.NewRecorder()
		e.p.TokenHandler().ServeHTTP(w, r)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var m map[string]any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m))
		return m
	}
	m := post("grant_type=password&username=johndoe&password=x&scope=read+write")
	m = post("grant_type=refresh_token&scope=read&refresh_token=" + m["refresh_token"].(string))
	require.Equal(t, "read", m["scope"])

	w := httptest.NewRecorder()
	e.protected().ServeHTTP(w, bearerRequest("https://api.example/", m["access_token"].(string)))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var id policy.Identity
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &id))
	assert.Equal(t, []string{"read"}, id.Scopes)
}

func TestBearerClientCredentialsIdentityHasNoUser(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "grant_type=client_credentials&scope=read+write")
	r := bearerRequest("https://api.example/", tok)
	w := httptest.NewRecorder()
	e.protected().ServeHTTP(w, r)
	require.Equal(t, 200, w.Code)
	var id policy.Identity
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &id))
	assert.Empty(t, id.UserID)
	assert.Equal(t, []string{"read", "write"}, id.Scopes)
}

func TestBearerNilProviderPanicsAtConstruction(t *testing.T) {
	assert.Panics(t, func() { policy.Bearer(nil) })
}

func TestIdentityContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, ok := policy.IdentityFrom(ctx)
	assert.False(t, ok)

	type otherKey struct{}
	ctx = context.WithValue(ctx, otherKey{}, "v")
	ctx = policy.WithIdentity(ctx, policy.Identity{UserID: "u", Method: policy.MethodCookie})
	id, ok := policy.IdentityFrom(ctx)
	require.True(t, ok)
	assert.Equal(t, "u", id.UserID)
	assert.Equal(t, policy.MethodCookie, id.Method)
	assert.Equal(t, "v", ctx.Value(otherKey{}), "other values pass through")

	child, cancelChild := context.WithCancel(ctx)
	defer cancelChild()
	cancel()
	<-child.Done() // cancellation crosses the identity context
	id.UserID = "changed"
	again, _ := policy.IdentityFrom(ctx)
	assert.Equal(t, "u", again.UserID, "IdentityFrom returns a copy")
}

// TestBearerAllocations guards the cost of the hot path: a valid token
// through Bearer over the memory store allocates the request copy that
// carries the new context and the context node holding the Identity,
// nothing more.
func TestBearerAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	e := newEnv(t)
	tok := e.token(t, "grant_type=password&username=johndoe&password=x&scope=read")
	var id policy.Identity
	h := policy.Bearer(e.p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ = policy.IdentityFrom(r.Context())
	}))
	r := bearerRequest("https://api.example/", tok)
	w := httptest.NewRecorder()
	allocs := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) })
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "user-johndoe", id.UserID)
	assert.Equal(t, []string{"read"}, id.Scopes)
	assert.LessOrEqual(t, allocs, 2.0, "allocations per validated request")
}

// BenchmarkBearer is one authenticated request through the middleware
// around a no-op handler, over the memory store.
func BenchmarkBearer(b *testing.B) {
	e := newEnv(b)
	tok := e.token(b, "grant_type=password&username=johndoe&password=x&scope=read")
	h := policy.Bearer(e.p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := bearerRequest("https://api.example/", tok)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
	if w.Code != http.StatusOK {
		b.Fatal(w.Code)
	}
}

// BenchmarkBaselineSHA256Map is the floor a token check can reach: one
// SHA-256 of the token and one map lookup.
func BenchmarkBaselineSHA256Map(b *testing.B) {
	e := newEnv(b)
	tok := e.token(b, "grant_type=password&username=johndoe&password=x&scope=read")
	m := map[[sha256.Size]byte]*policy.Identity{sha256.Sum256([]byte(tok)): {UserID: "user-johndoe"}}
	b.ReportAllocs()
	var found *policy.Identity
	for b.Loop() {
		found = m[sha256.Sum256([]byte(tok))]
	}
	if found == nil {
		b.Fatal("not found")
	}
}

// A bearer token must not travel in the clear (RFC 6750 §5.3): a request
// that did not come over HTTPS is refused before its token is looked at,
// unless the provider allows plain HTTP.
func TestBearerRequiresHTTPS(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, "grant_type=password&username=johndoe&password=x&scope=read")
	r := bearerRequest("http://api.example/", tok)
	w := httptest.NewRecorder()
	e.protected().ServeHTTP(w, r)
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Equal(t, `Bearer realm="api", error="invalid_request", error_description="HTTPS is required"`, w.Header().Get("WWW-Authenticate"))
	assert.JSONEq(t, `{"error":"invalid_request","error_description":"HTTPS is required"}`, w.Body.String())

	st := memory.New(memory.Config{})
	p, err := provider.New(provider.Config{Clients: st, Tokens: st, AllowInsecureHTTP: true})
	require.NoError(t, err)
	w = httptest.NewRecorder()
	policy.Bearer(p)(http.NotFoundHandler()).ServeHTTP(w, r)
	assert.Equal(t, http.StatusUnauthorized, w.Code, "plain HTTP allowed: the token is judged (unknown here)")
}

// bearerRequest is a GET of target carrying tok as its bearer token.
func bearerRequest(target, tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}
