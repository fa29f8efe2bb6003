// Package providertest drives a provider over a given store through its
// token endpoint (httptest), for the stores' tests of what a request
// costs them end to end.
package providertest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// Env is a provider on a store, with client "app" (a generated secret,
// password and refresh grants) and user "alice".
type Env struct {
	P      *provider.Provider
	secret string
}

// New registers the client in clients and returns an Env on the stores
// with Config.ClientCacheTTL set to ttl and the clock now (nil:
// time.Now), which should be the stores' own.
func New(t testing.TB, clients storage.ClientStore, tokens storage.TokenStore, ttl time.Duration, now func() time.Time) *Env {
	t.Helper()
	secret, hash, err := storage.NewClientSecret()
	require.NoError(t, err)
	require.NoError(t, clients.CreateClient(t.Context(), &storage.Client{ID: "app", SecretHash: hash,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken}}))
	var users authcheck.Static
	require.NoError(t, users.Add("alice", "pw", "u1"))
	p, err := provider.New(provider.Config{Clients: clients, Tokens: tokens, Users: &users,
		AllowInsecureHTTP: true, ClientCacheTTL: ttl, Now: now,
		Events: func(context.Context, provider.Event) {}})
	require.NoError(t, err)
	return &Env{P: p, secret: secret}
}

// Password runs a password grant for alice and returns the response.
func (e *Env) Password(t testing.TB) map[string]any {
	t.Helper()
	return e.post(t, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"pw"}})
}

// Refresh runs a refresh grant of refresh token rt and returns the
// response.
func (e *Env) Refresh(t testing.TB, rt string) map[string]any {
	t.Helper()
	return e.post(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// Validate validates access token at.
func (e *Env) Validate(t testing.TB, at string) {
	t.Helper()
	_, err := e.P.ValidateAccessToken(httptest.NewRequest(http.MethodGet, "/", nil), at)
	require.NoError(t, err)
}

// post sends a token request as app and returns the 200 response.
func (e *Env) post(t testing.TB, form url.Values) map[string]any {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("app", e.secret)
	w := httptest.NewRecorder()
	e.P.TokenHandler().ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m))
	return m
}
