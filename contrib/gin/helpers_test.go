package ginoauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

func init() { gin.SetMode(gin.TestMode) }

const (
	clientID = "demo-client"
	issuer   = "https://auth.example.com"
)

// clientSecret is a generated secret, stored as SHA-256, and userHash a
// minimum-cost bcrypt hash: the tests check the adapter, not slow hashes.
var clientSecret, secretHash, userHash = func() (string, string, string) {
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		panic(err)
	}
	uh, err := bcrypt.GenerateFromPassword([]byte("foobar42"), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return secret, hash, string(uh)
}()

// newProvider returns a provider over a fresh memory store with the
// quickstart's client and user.
func newProvider(t testing.TB) *provider.Provider {
	t.Helper()
	store := memory.New(memory.Config{})
	require.NoError(t, store.CreateClient(context.Background(), &storage.Client{
		ID:         clientID,
		SecretHash: secretHash,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken, storage.GrantClientCredentials},
		Scopes:     []string{"read", "write"},
	}))
	var users authcheck.Static
	require.NoError(t, users.AddHash("johndoe", userHash, "user-1"))
	p, err := provider.New(provider.Config{
		Clients:           store,
		Tokens:            store,
		Users:             &users,
		Scopes:            []string{"read", "write"},
		Issuer:            issuer,
		AllowInsecureHTTP: true,
		Events:            func(context.Context, provider.Event) {},
	})
	require.NoError(t, err)
	return p
}

// post sends a form POST with the client's Basic credentials to h.
func post(h http.Handler, path string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// passwordToken gets an access token for johndoe with scope from the
// token endpoint served by h at /oauth2/token.
func passwordToken(t testing.TB, h http.Handler, scope string) string {
	t.Helper()
	rec := post(h, "/oauth2/token", url.Values{
		"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}, "scope": {scope},
	})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &tok))
	require.NotEmpty(t, tok.AccessToken)
	return tok.AccessToken
}

// get sends a GET to h with an optional bearer token.
func get(h http.Handler, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
