package provider_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
)

func metadataDoc(t *testing.T, p *provider.Provider) map[string]any {
	t.Helper()
	w := httptest.NewRecorder()
	p.MetadataHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://auth.example.com"+p.MetadataPath(), nil))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m))
	return m
}

// RFC 8414 §2, RFC 7636 §6.2, RFC 9207 §3.
func TestMetadataAdvertisesAuthorizationEndpoint(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) {
		c.Issuer = "https://auth.example.com"
		c.Endpoints.Authorization = "/oauth2/authorize"
	})
	m := metadataDoc(t, e.p)
	assert.Equal(t, "https://auth.example.com/oauth2/authorize", m["authorization_endpoint"])
	assert.Equal(t, []any{"code"}, m["response_types_supported"])
	assert.Equal(t, []any{"S256"}, m["code_challenge_methods_supported"])
	assert.Equal(t, true, m["authorization_response_iss_parameter_supported"])
	assert.Contains(t, m["grant_types_supported"], "authorization_code")
}

func TestMetadataWithoutAuthorizationEndpoint(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.Issuer = "https://auth.example.com" })
	m := metadataDoc(t, e.p)
	assert.NotContains(t, m, "authorization_endpoint")
	assert.NotContains(t, m, "code_challenge_methods_supported")
	assert.Equal(t, []any{}, m["response_types_supported"])
	assert.NotContains(t, m["grant_types_supported"], "authorization_code")
}

// An authorization endpoint configured as not served ("-") is not
// advertised, nor is the authorization_code grant.
func TestMetadataWithAuthorizationEndpointNotServed(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) {
		c.Issuer = "https://auth.example.com"
		c.Endpoints.Authorization = provider.EndpointNotServed
	})
	m := metadataDoc(t, e.p)
	assert.NotContains(t, m, "authorization_endpoint")
	assert.NotContains(t, m, "code_challenge_methods_supported")
	assert.NotContains(t, m, "response_modes_supported")
	assert.Equal(t, []any{}, m["response_types_supported"])
	assert.Equal(t, []any{"password", "refresh_token", "client_credentials"}, m["grant_types_supported"])
}

func TestMetadataAuthorizationPathIsValidated(t *testing.T) {
	_, err := provider.New(provider.Config{Clients: newTestStore(nil), Tokens: newTestStore(nil), Endpoints: provider.Endpoints{Authorization: "oauth2/authorize"}})
	assert.Error(t, err)
}

// AllowPlainPKCE does not put plain in the metadata: a client choosing
// its method from code_challenge_methods_supported always picks S256.
func TestMetadataListsS256OnlyEvenWithPlainAllowed(t *testing.T) {
	e := newAuthzEnv(t, func(c *provider.Config) {
		c.Issuer = "https://auth.example.com"
		c.Endpoints.Authorization = "/oauth2/authorize"
	}, func(c *provider.AuthorizeConfig) { c.AllowPlainPKCE = true })
	assert.Equal(t, []any{"S256"}, metadataDoc(t, e.p)["code_challenge_methods_supported"])
}
