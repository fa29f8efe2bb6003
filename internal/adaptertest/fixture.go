package adaptertest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// The quickstart's client and user, as [NewProvider] registers them.
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

// clientSecret is a generated secret, stored as SHA-256, and userHash a
// minimum-cost bcrypt hash: the tests check the adapter, not slow hashes.
var clientSecret, secretHash, userHash = func() (string, string, string) {
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		panic(err)
	}
	uh, err := bcrypt.GenerateFromPassword([]byte(Password), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return secret, hash, string(uh)
}()

// NewProvider returns a provider over a fresh memory store with the
// quickstart's client ([ClientID]: password, refresh token and client
// credentials grants, scopes "read" and "write") and user ([Username]).
func NewProvider(t testing.TB) *provider.Provider {
	t.Helper()
	store := memory.New(memory.Config{})
	require.NoError(t, store.CreateClient(context.Background(), &storage.Client{
		ID:         ClientID,
		SecretHash: secretHash,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken, storage.GrantClientCredentials},
		Scopes:     []string{"read", "write"},
	}))
	var users authcheck.Static
	require.NoError(t, users.AddHash(Username, userHash, UserID))
	p, err := provider.New(provider.Config{
		Clients:           store,
		Tokens:            store,
		Users:             &users,
		Scopes:            []string{"read", "write"},
		Issuer:            Issuer,
		AllowInsecureHTTP: true,
		Events:            func(context.Context, provider.Event) {},
	})
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

// PasswordToken gets an access token for [Username] with scope from the
// token endpoint served by h at its default path, and fails t if there
// is none.
func PasswordToken(t testing.TB, h http.Handler, scope string) string {
	t.Helper()
	rec := Post(h, provider.DefaultTokenPath, url.Values{
		"grant_type": {"password"}, "username": {Username}, "password": {Password}, "scope": {scope},
	})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &tok))
	require.NotEmpty(t, tok.AccessToken)
	return tok.AccessToken
}
