package ginoauth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/gin-gonic/gin"
	ginoauth "github.com/oauth2provider/oauth2provider/contrib/gin"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMountDefaultPaths(t *testing.T) {
	p := newProvider(t)
	r := gin.New()
	ginoauth.Mount(r, p, ginoauth.Paths{})
	r.GET("/me", ginoauth.Middleware(policy.Bearer(p)), func(c *gin.Context) { c.Status(http.StatusNoContent) })

	tok := passwordToken(t, r, "read")

	t.Run("RFC7662 introspection answers active for a live token", func(t *testing.T) {
		rec := post(r, provider.DefaultIntrospectionPath, url.Values{"token": {tok}})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var body struct {
			Active bool `json:"active"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		assert.True(t, body.Active)
	})
	t.Run("RFC8414 metadata advertises the mounted endpoints", func(t *testing.T) {
		rec := get(r, provider.WellKnownMetadataPath, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var md map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &md))
		assert.Equal(t, issuer, md["issuer"])
		assert.Equal(t, issuer+provider.DefaultTokenPath, md["token_endpoint"])
		assert.Equal(t, issuer+provider.DefaultRevocationPath, md["revocation_endpoint"])
	})
	t.Run("RFC6749 3.2 the token endpoint answers another method with 405 itself", func(t *testing.T) {
		rec := get(r, provider.DefaultTokenPath, "")
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		assert.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
	})
	t.Run("RFC7009 a revoked token no longer passes the policy", func(t *testing.T) {
		require.Equal(t, http.StatusNoContent, get(r, "/me", tok).Code)
		rec := post(r, provider.DefaultRevocationPath, url.Values{"token": {tok}})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, http.StatusUnauthorized, get(r, "/me", tok).Code)
	})
}

func TestMountPaths(t *testing.T) {
	p := newProvider(t)
	r := gin.New()
	var wrapped []string
	ginoauth.Mount(r.Group("/auth"), p, ginoauth.Paths{
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
	rec := post(r, "/auth/token", url.Values{"grant_type": {"client_credentials"}})
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "/token", rec.Header().Get("X-Wrapped"))
	assert.Equal(t, http.StatusOK, get(r, "/auth/meta", "").Code)
	assert.Equal(t, http.StatusNotFound, post(r, "/auth"+provider.DefaultRevocationPath, url.Values{"token": {"x"}}).Code, "left out")
	assert.Equal(t, http.StatusNotFound, post(r, "/auth"+provider.DefaultIntrospectionPath, url.Values{"token": {"x"}}).Code, "left out")
	assert.Equal(t, http.StatusNotFound, post(r, provider.DefaultTokenPath, url.Values{"grant_type": {"client_credentials"}}).Code, "not at the default path")
}

func TestMountPanicsWithoutProvider(t *testing.T) {
	assert.Panics(t, func() { ginoauth.Mount(gin.New(), nil, ginoauth.Paths{}) })
}
