package provider_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/passhash"
	"github.com/oauth2provider/oauth2provider/internal/testclock"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// clock is a controllable clock.
type clock = testclock.Clock

func newClock() *clock { return testclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }

const (
	confSecret  = "conf-secret-0123456789abcdefghijklmnopqrstuvw"
	otherSecret = "other-secret-0123456789abcdefghijklmnopqrstuv"
	// weirdID and weirdSecret need form-urlencoding inside Basic.
	weirdID     = "svc:a b"
	weirdSecret = "s3cr+t/x%y"
	// humanSecret is a secret a person chose, stored with argon2id (at a
	// test's cost): guesses at it are throttled.
	humanSecret = "correct horse"
)

// humanHash is the stored form of humanSecret.
var humanHash = func() string {
	h, err := passhash.Hash(humanSecret, passhash.Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		panic(err)
	}
	return h
}()

// human authenticates as the client "human", whose secret a person chose.
var human = []string{"human", humanSecret}

var errUserDBDown = errors.New("user db: connection refused")

// users accepts johndoe/foobar42 as user-1; user "down" is an outage.
var users = authcheck.Func(func(ctx context.Context, username, password string) (string, error) {
	switch {
	case username == "down":
		return "", errUserDBDown
	case username == "slow":
		<-ctx.Done()
		return "", ctx.Err()
	case username == "johndoe" && password == "foobar42":
		return "user-1", nil
	}
	return "", authcheck.ErrInvalidCredentials
})

// env is a provider over a fake store with a set of clients.
type env struct {
	clock *clock
	store *testStore
	p     *provider.Provider
	h     http.Handler
}

func newEnv(t testing.TB, mutate func(*provider.Config)) *env {
	t.Helper()
	clk := newClock()
	st := newTestStore(clk.Now)
	all := []string{storage.GrantPassword, storage.GrantRefreshToken, storage.GrantClientCredentials}
	for _, c := range []storage.Client{
		{ID: "conf", SecretHash: storage.HashGeneratedSecret(confSecret), GrantTypes: all,
			Scopes: []string{"read", "write"}, DefaultScopes: []string{"read"}},
		{ID: "other", SecretHash: storage.HashGeneratedSecret(otherSecret), GrantTypes: all,
			Scopes: []string{"read", "write"}},
		{ID: "pub", Public: true, GrantTypes: all, Scopes: []string{"read", "write"}},
		{ID: "cc-only", SecretHash: storage.HashGeneratedSecret(confSecret),
			GrantTypes: []string{storage.GrantClientCredentials}, Scopes: []string{"read"}},
		{ID: "no-refresh", SecretHash: storage.HashGeneratedSecret(confSecret),
			GrantTypes: []string{storage.GrantPassword}},
		{ID: "disabled", SecretHash: storage.HashGeneratedSecret(confSecret), GrantTypes: all, Disabled: true},
		{ID: "pub-disabled", Public: true, GrantTypes: all, Disabled: true},
		{ID: weirdID, SecretHash: storage.HashGeneratedSecret(weirdSecret), GrantTypes: all},
		{ID: "human", SecretHash: humanHash, GrantTypes: all, Scopes: []string{"read"}},
		{ID: "human2", SecretHash: humanHash, GrantTypes: all, Scopes: []string{"read"}},
	} {
		require.NoError(t, st.CreateClient(context.Background(), &c))
	}
	cfg := provider.Config{
		Clients:       st,
		Tokens:        st,
		Users:         users,
		Scopes:        []string{"read", "write", "admin", "profile"},
		DefaultScopes: []string{"profile"},
		Realm:         "test-realm",
		Now:           clk.Now,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	p, err := provider.New(cfg)
	require.NoError(t, err)
	return &env{clock: clk, store: st, p: p, h: p.TokenHandler()}
}

// req describes a token endpoint request; zero fields mean a well-formed
// HTTPS POST of form.
type req struct {
	method      string
	form        url.Values
	rawBody     string // used instead of form when set
	query       string
	contentType string // "" means form-urlencoded; "-" means none
	basic       []string
	header      http.Header
	plainHTTP   bool
	remoteAddr  string
	ctx         context.Context
}

func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func (rq req) build() *http.Request {
	body := rq.form.Encode()
	if rq.rawBody != "" {
		body = rq.rawBody
	}
	method := rq.method
	if method == "" {
		method = http.MethodPost
	}
	target := "https://auth.example.com/oauth2/token"
	if rq.query != "" {
		target += "?" + rq.query
	}
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if rq.plainHTTP {
		r.TLS = nil
	} else {
		r.TLS = &tls.ConnectionState{}
	}
	switch rq.contentType {
	case "":
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case "-":
	default:
		r.Header.Set("Content-Type", rq.contentType)
	}
	if rq.basic != nil {
		r.Header.Set("Authorization", basicAuth(rq.basic[0], rq.basic[1]))
	}
	for k, vs := range rq.header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	if rq.remoteAddr != "" {
		r.RemoteAddr = rq.remoteAddr
	}
	if rq.ctx != nil {
		r = r.WithContext(rq.ctx)
	}
	return r
}

func (e *env) do(rq req) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, rq.build())
	return w
}

// password returns a password-grant form with extra pairs.
func password(kv ...string) url.Values {
	v := url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}}
	return with(v, kv...)
}

func with(v url.Values, kv ...string) url.Values {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

var conf = []string{"conf", confSecret}

// body decodes a JSON response.
func body(t testing.TB, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m), "body: %s", w.Body.String())
	return m
}

// assertNoStore checks the headers every token endpoint response has.
func assertNoStore(t testing.TB, w *httptest.ResponseRecorder) {
	t.Helper()
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Equal(t, "no-cache", w.Header().Get("Pragma"))
	assert.Equal(t, "application/json;charset=utf-8", w.Header().Get("Content-Type"))
}

// assertError checks an RFC 6749 §5.2 error response.
func assertError(t testing.TB, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	assert.Equal(t, status, w.Code, "body: %s", w.Body.String())
	assertNoStore(t, w)
	m := body(t, w)
	assert.Equal(t, code, m["error"])
	assert.NotContains(t, m, "access_token")
}

// assertToken checks a successful token response and returns it.
func assertToken(t testing.TB, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body.String())
	assertNoStore(t, w)
	m := body(t, w)
	assert.Equal(t, "Bearer", m["token_type"])
	assert.True(t, strings.HasPrefix(m["access_token"].(string), "oat_"))
	return m
}

// issue runs a password grant for conf and returns the response.
func (e *env) issue(t testing.TB, kv ...string) map[string]any {
	t.Helper()
	return assertToken(t, e.do(req{form: password(kv...), basic: conf}))
}

// validate checks an access token with the provider.
func (e *env) validate(raw string) (*storage.TokenInfo, error) {
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	return e.p.ValidateAccessToken(r, raw)
}
