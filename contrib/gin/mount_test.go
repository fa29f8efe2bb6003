package ginoauth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	ginoauth "github.com/oauth2provider/oauth2provider/contrib/gin"
	"github.com/oauth2provider/oauth2provider/internal/adaptertest"
	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMountDefaultPaths(t *testing.T) {
	adaptertest.TestMountDefaultPaths(t, func(p *provider.Provider) http.Handler {
		r := gin.New()
		ginoauth.Mount(r, p, ginoauth.Paths{})
		r.GET("/me", ginoauth.Middleware(policy.Bearer(p)), func(c *gin.Context) { c.Status(http.StatusNoContent) })
		return r
	})
}

func TestMountPaths(t *testing.T) {
	adaptertest.TestMountPaths(t, func(p *provider.Provider, paths ginoauth.Paths) http.Handler {
		r := gin.New()
		ginoauth.Mount(r.Group("/auth"), p, paths)
		return r
	})
}

func TestMountPanicsWithoutProvider(t *testing.T) {
	assert.PanicsWithValue(t, "ginoauth: Mount needs a provider", func() { ginoauth.Mount(gin.New(), nil, ginoauth.Paths{}) })
}

// The recipe of Paths' doc for a group: every path given relative to the
// group, the group's prefix followed by it being the path the metadata
// document advertises (here the prefix is the issuer's path), and the
// metadata document mounted at the root on its own. Each endpoint the
// document advertises is served there, and only there.
func TestMountOnGroupAsPathsSays(t *testing.T) {
	store := memory.New(memory.Config{})
	p := providertest.NewProviderOn(t, store, store, func(c *provider.Config) { c.Issuer = providertest.Issuer + "/auth" })
	g := gin.New()
	ginoauth.Mount(g.Group("/auth"), p, ginoauth.Paths{Token: "/oauth2/token", Revoke: "/oauth2/revoke", Introspect: "/oauth2/introspect", Metadata: provider.EndpointNotServed})
	ginoauth.Mount(g, p, ginoauth.Paths{Token: provider.EndpointNotServed, Revoke: provider.EndpointNotServed, Introspect: provider.EndpointNotServed})
	var r http.Handler = g
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
