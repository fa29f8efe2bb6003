package echooauth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
	echooauth "github.com/oauth2provider/oauth2provider/contrib/echo"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newMounted returns an Echo with p's endpoints at their default paths.
func newMounted(p *provider.Provider) *echo.Echo {
	e := echo.New()
	echooauth.Mount(e, p, echooauth.Paths{})
	return e
}

func TestMountDefaultPaths(t *testing.T) {
	p := newProvider(t)
	e := newMounted(p)
	e.GET("/me", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, echooauth.Middleware(policy.Bearer(p)))

	tok := passwordToken(t, e, "read")

	t.Run("RFC7662 introspection answers active for a live token", func(t *testing.T) {
		rec := post(e, provider.DefaultIntrospectionPath, url.Values{"token": {tok}})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var body struct {
			Active bool `json:"active"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		assert.True(t, body.Active)
	})
	t.Run("RFC8414 metadata advertises the mounted endpoints", func(t *testing.T) {
		rec := get(e, provider.WellKnownMetadataPath, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var md map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &md))
		assert.Equal(t, issuer, md["issuer"])
		assert.Equal(t, issuer+provider.DefaultTokenPath, md["token_endpoint"])
		assert.Equal(t, issuer+provider.DefaultRevocationPath, md["revocation_endpoint"])
	})
	t.Run("RFC6749 3.2 the token endpoint answers another method with 405 itself", func(t *testing.T) {
		rec := get(e, provider.DefaultTokenPath, "")
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		assert.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
	})
	t.Run("RFC7009 a revoked token no longer passes the policy", func(t *testing.T) {
		require.Equal(t, http.StatusNoContent, get(e, "/me", tok).Code)
		rec := post(e, provider.DefaultRevocationPath, url.Values{"token": {tok}})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, http.StatusUnauthorized, get(e, "/me", tok).Code)
	})
}

func TestMountPaths(t *testing.T) {
	p := newProvider(t)
	e := echo.New()
	var wrapped []string
	echooauth.Mount(e.Group("/auth"), p, echooauth.Paths{
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
	rec := post(e, "/auth/token", url.Values{"grant_type": {"client_credentials"}})
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "/token", rec.Header().Get("X-Wrapped"))
	assert.Equal(t, http.StatusOK, get(e, "/auth/meta", "").Code)
	assert.Equal(t, http.StatusNotFound, post(e, "/auth"+provider.DefaultRevocationPath, url.Values{"token": {"x"}}).Code, "left out")
	assert.Equal(t, http.StatusNotFound, post(e, "/auth"+provider.DefaultIntrospectionPath, url.Values{"token": {"x"}}).Code, "left out")
	assert.Equal(t, http.StatusNotFound, post(e, provider.DefaultTokenPath, url.Values{"grant_type": {"client_credentials"}}).Code, "not at the default path")
}

func TestMountPanicsWithoutProvider(t *testing.T) {
	assert.Panics(t, func() { echooauth.Mount(echo.New(), nil, echooauth.Paths{}) })
}
