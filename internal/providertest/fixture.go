// Package providertest holds the fixtures the repository's tests share: a
// provider with the quickstart's client and user, the requests that
// drive it over net/http, and [CheckRoundTrips], which counts what a
// validation and a refresh cost a networked store through the provider.
package providertest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// The quickstart's client and user, as [AddFixtures] registers them.
const (
	// ClientID is the client [Post] authenticates as.
	ClientID = "demo-client"
	// Issuer is the provider's issuer identifier (RFC 8414 §2).
	Issuer = "https://auth.example.com"
	// Username is the resource owner's user name.
	Username = "johndoe"
	// Password is Username's password.
	Password = "foobar42"
	// UserID is the user ID Username authenticates as.
	UserID = "user-1"
)

// clientSecret is a generated secret, stored as SHA-256, and passwordHash
// a minimum-cost bcrypt hash of Password: the tests check the code they
// are about, not slow hashes.
var clientSecret, secretHash, passwordHash = func() (string, string, string) {
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		panic(err)
	}
	ph, err := bcrypt.GenerateFromPassword([]byte(Password), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return secret, hash, string(ph)
}()

// ClientSecret returns [ClientID]'s secret, a generated one.
func ClientSecret() string { return clientSecret }

// PasswordHash returns a minimum-cost bcrypt hash of [Password], the
// stored form of a secret a person chose.
func PasswordHash() string { return passwordHash }

// AddFixtures registers [ClientID] in clients (password, refresh token
// and client credentials grants, scopes "read" and "write") and returns
// the users: [Username] with [Password], as [UserID].
func AddFixtures(t testing.TB, clients storage.ClientStore) *authcheck.Static {
	t.Helper()
	require.NoError(t, clients.CreateClient(context.Background(), &storage.Client{
		ID:         ClientID,
		SecretHash: secretHash,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken, storage.GrantClientCredentials},
		Scopes:     []string{"read", "write"},
	}))
	var users authcheck.Static
	require.NoError(t, users.AddHash(Username, passwordHash, UserID))
	return &users
}

// NewProvider returns a provider over a fresh memory store with the
// fixtures ([AddFixtures]).
func NewProvider(t testing.TB) *provider.Provider {
	t.Helper()
	store := memory.New(memory.Config{})
	return NewProviderOn(t, store, store, nil)
}

// NewProviderOn returns a provider over the given stores with the
// fixtures ([AddFixtures]), scopes "read" and "write", [Issuer], plain
// HTTP allowed and events dropped; mutate, when not nil, changes the
// configuration last.
func NewProviderOn(t testing.TB, clients storage.ClientStore, tokens storage.TokenStore, mutate func(*provider.Config)) *provider.Provider {
	t.Helper()
	cfg := provider.Config{
		Clients:           clients,
		Tokens:            tokens,
		Users:             AddFixtures(t, clients),
		Scopes:            []string{"read", "write"},
		Issuer:            Issuer,
		AllowInsecureHTTP: true,
		Events:            func(context.Context, provider.Event) {},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	p, err := provider.New(cfg)
	require.NoError(t, err)
	return p
}

// Post sends a form POST with the client's Basic credentials to h.
func Post(h http.Handler, path string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(ClientID, clientSecret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// Get sends a GET to h with an optional bearer token.
func Get(h http.Handler, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// Tokens are the tokens of a token response.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// Grant sends a token request as the client to the token endpoint served
// by h at its default path, and fails t unless it issues an access token.
func Grant(t testing.TB, h http.Handler, form url.Values) Tokens {
	t.Helper()
	rec := Post(h, provider.DefaultTokenPath, form)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var tok Tokens
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &tok))
	require.NotEmpty(t, tok.AccessToken)
	return tok
}

// PasswordGrant is the form of a password grant for [Username] with scope.
func PasswordGrant(scope string) url.Values {
	return url.Values{"grant_type": {"password"}, "username": {Username}, "password": {Password}, "scope": {scope}}
}

// RefreshGrant is the form of a refresh grant of refresh token rt.
func RefreshGrant(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
}

// PasswordToken gets an access token for [Username] with scope from the
// token endpoint served by h at its default path, and fails t if there
// is none.
func PasswordToken(t testing.TB, h http.Handler, scope string) string {
	t.Helper()
	return Grant(t, h, PasswordGrant(scope)).AccessToken
}

// CheckMalformedClientIDs checks, through the token, revocation and
// authorization endpoints of a provider over the given stores, that a
// client_id no client can have (a NUL byte, invalid UTF-8: a request may
// carry any bytes) is refused as an unknown client, 401 invalid_client
// or 400 at /authorize, and never as an outage (503).
func CheckMalformedClientIDs(t *testing.T, clients storage.ClientStore, tokens storage.TokenStore) {
	t.Helper()
	p := NewProviderOn(t, clients, tokens, nil)
	az, err := p.AuthorizeHandler(provider.AuthorizeConfig{
		CurrentUser: func(*http.Request) (string, bool) { return UserID, true },
		LoginURL:    "/login",
	})
	require.NoError(t, err)
	for _, id := range []string{"a\x00b", "\xff", "a\xc3", "tab\tid", "é\x00"} {
		send := func(h http.Handler, path string, form url.Values, basic bool) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if basic {
				req.SetBasicAuth(url.QueryEscape(id), clientSecret)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		for name, rec := range map[string]*httptest.ResponseRecorder{
			"token, public":    send(p.TokenHandler(), provider.DefaultTokenPath, url.Values{"grant_type": {"password"}, "username": {Username}, "password": {Password}, "client_id": {id}}, false),
			"token, post":      send(p.TokenHandler(), provider.DefaultTokenPath, url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {clientSecret}}, false),
			"token, Basic":     send(p.TokenHandler(), provider.DefaultTokenPath, url.Values{"grant_type": {"client_credentials"}}, true),
			"revoke, Basic":    send(p.RevokeHandler(), "/oauth2/revoke", url.Values{"token": {"x"}}, true),
			"introspect, post": send(p.IntrospectHandler(), "/oauth2/introspect", url.Values{"token": {"x"}, "client_id": {id}, "client_secret": {clientSecret}}, false),
		} {
			require.Equal(t, http.StatusUnauthorized, rec.Code, "%s %q: %s", name, id, rec.Body.String())
			assert.Contains(t, rec.Body.String(), `"invalid_client"`, "%s %q", name, id)
		}
		q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {"https://app.example/cb"},
			"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
		rec := httptest.NewRecorder()
		az.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth2/authorize?"+q.Encode(), nil))
		assert.Equal(t, http.StatusBadRequest, rec.Code, "authorize %q", id)
	}
}
