package adaptertest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMountDefaultPaths checks an adapter's Mount at the default paths.
// mount returns the framework's router with p's endpoints mounted by the
// adapter with zero paths, and GET /me behind the adapter's Middleware
// running policy.Bearer(p), answering 204.
func TestMountDefaultPaths(t *testing.T, mount func(p *provider.Provider) http.Handler) {
	r := mount(providertest.NewProvider(t))
	tok := providertest.PasswordToken(t, r, "read")

	t.Run("RFC7662 introspection answers active for a live token", func(t *testing.T) {
		rec := providertest.Post(r, provider.DefaultIntrospectionPath, url.Values{"token": {tok}})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var body struct {
			Active bool `json:"active"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		assert.True(t, body.Active)
	})
	t.Run("RFC8414 metadata advertises the mounted endpoints", func(t *testing.T) {
		rec := providertest.Get(r, provider.WellKnownMetadataPath, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var md map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &md))
		assert.Equal(t, providertest.Issuer, md["issuer"])
		assert.Equal(t, providertest.Issuer+provider.DefaultTokenPath, md["token_endpoint"])
		assert.Equal(t, providertest.Issuer+provider.DefaultRevocationPath, md["revocation_endpoint"])
	})
	t.Run("RFC6749 3.2 the token endpoint answers another method with 405 itself", func(t *testing.T) {
		rec := providertest.Get(r, provider.DefaultTokenPath, "")
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		assert.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
	})
	t.Run("RFC7009 a revoked token no longer passes the policy", func(t *testing.T) {
		require.Equal(t, http.StatusNoContent, providertest.Get(r, "/me", tok).Code)
		rec := providertest.Post(r, provider.DefaultRevocationPath, url.Values{"token": {tok}})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, http.StatusUnauthorized, providertest.Get(r, "/me", tok).Code)
	})
}

// TestMountPaths checks an adapter's Mount on a group with configured
// paths: one endpoint moved, two left out, and Wrap around each handler.
// mountAt returns the framework's router with p's endpoints mounted by
// the adapter with paths on a group at the prefix "/auth".
func TestMountPaths(t *testing.T, mountAt func(p *provider.Provider, paths provider.RoutePaths) http.Handler) {
	var wrapped []string
	r := mountAt(providertest.NewProvider(t), provider.RoutePaths{
		Token:      "/token",
		Revoke:     provider.EndpointNotServed,
		Introspect: provider.EndpointNotServed,
		Metadata:   "/meta",
		Wrap: func(path string, h http.Handler) http.Handler {
			wrapped = append(wrapped, path)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Wrapped", path)
				h.ServeHTTP(w, r)
			})
		},
	})
	assert.Equal(t, []string{"/token", "/meta"}, wrapped, "Wrap sees each mounted endpoint once")
	rec := providertest.Post(r, "/auth/token", url.Values{"grant_type": {"client_credentials"}})
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "/token", rec.Header().Get("X-Wrapped"))
	assert.Equal(t, http.StatusOK, providertest.Get(r, "/auth/meta", "").Code)
	assert.Equal(t, http.StatusNotFound, providertest.Post(r, "/auth"+provider.DefaultRevocationPath, url.Values{"token": {"x"}}).Code, "left out")
	assert.Equal(t, http.StatusNotFound, providertest.Post(r, "/auth"+provider.DefaultIntrospectionPath, url.Values{"token": {"x"}}).Code, "left out")
	assert.Equal(t, http.StatusNotFound, providertest.Post(r, provider.DefaultTokenPath, url.Values{"grant_type": {"client_credentials"}}).Code, "not at the default path")
}

// TestMountOnGroupAsPathsSay checks the recipe of the adapters' Paths doc
// for a group: every path given relative to the group, the group's prefix
// followed by it being the path the metadata document advertises (here
// the prefix is the issuer's path), and the metadata document mounted at
// the root on its own. Each endpoint the document advertises is served
// there, and the metadata is not served under the group. mount returns
// the framework's router with p's endpoints mounted by the adapter that
// way: on a group at "/auth" with group (Token "/oauth2/token", Revoke
// "/oauth2/revoke", Introspect "/oauth2/introspect", Metadata
// EndpointNotServed), and on the root with root (the three endpoints
// EndpointNotServed).
func TestMountOnGroupAsPathsSay(t *testing.T, p *provider.Provider, mount func(group, root provider.RoutePaths) http.Handler) {
	r := mount(
		provider.RoutePaths{Token: "/oauth2/token", Revoke: "/oauth2/revoke", Introspect: "/oauth2/introspect", Metadata: provider.EndpointNotServed},
		provider.RoutePaths{Token: provider.EndpointNotServed, Revoke: provider.EndpointNotServed, Introspect: provider.EndpointNotServed})
	rec := providertest.Get(r, p.MetadataPath(), "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var md map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &md))
	path := func(key string) string {
		u, _ := md[key].(string)
		require.True(t, strings.HasPrefix(u, providertest.Issuer+"/"), "%s: %q", key, u)
		return strings.TrimPrefix(u, providertest.Issuer)
	}
	rec = providertest.Post(r, path("token_endpoint"), url.Values{"grant_type": {"client_credentials"}})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var tok providertest.Tokens
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &tok))
	rec = providertest.Post(r, path("introspection_endpoint"), url.Values{"token": {tok.AccessToken}})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `"active":true`)
	rec = providertest.Post(r, path("revocation_endpoint"), url.Values{"token": {tok.AccessToken}})
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, http.StatusNotFound, providertest.Get(r, "/auth"+p.MetadataPath(), "").Code, "the metadata under the group")
}
