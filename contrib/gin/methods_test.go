package ginoauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	ginoauth "github.com/oauth2provider/oauth2provider/contrib/gin"
	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/stretchr/testify/assert"
)

// Mount registers the endpoints for the methods gin's Any does, as its
// doc says: the provider answers those itself (405 with an Allow
// header for a method an endpoint does not serve, as on any router);
// another method never reaches it.
func TestMountMethods(t *testing.T) {
	r := gin.New()
	ginoauth.Mount(r, providertest.NewProvider(t), ginoauth.Paths{})
	for _, m := range []string{
		http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodHead, http.MethodOptions,
		http.MethodDelete, http.MethodConnect, http.MethodTrace,
	} {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(m, provider.DefaultTokenPath, nil))
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, m)
		assert.Equal(t, http.MethodPost, rec.Header().Get("Allow"), m)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("PROPFIND", provider.DefaultTokenPath, nil))
	assert.Equal(t, http.StatusNotFound, rec.Code, "a method gin's Any leaves out gets gin's answer")
	assert.Empty(t, rec.Header().Get("Allow"))
}

// An endpoint is served at its path only; with a trailing slash, gin's
// engine answers itself, as Mount's doc says: a redirect to the path
// (307 for POST, so that a client that follows it sends its request
// again, to the same host) while RedirectTrailingSlash is set, gin's
// default, and 404 without it. The provider's handler does not run.
func TestMountTrailingSlash(t *testing.T) {
	for _, redirect := range []bool{true, false} {
		r := gin.New()
		r.RedirectTrailingSlash = redirect
		ginoauth.Mount(r, providertest.NewProvider(t), ginoauth.Paths{})
		for path, m := range map[string]string{
			provider.DefaultTokenPath:         http.MethodPost,
			provider.DefaultRevocationPath:    http.MethodPost,
			provider.DefaultIntrospectionPath: http.MethodPost,
			provider.WellKnownMetadataPath:    http.MethodGet,
		} {
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(m, path+"/", nil))
			if !redirect {
				assert.Equal(t, http.StatusNotFound, rec.Code, "%s %s/", m, path)
				continue
			}
			want := http.StatusTemporaryRedirect
			if m == http.MethodGet {
				want = http.StatusMovedPermanently
			}
			assert.Equal(t, want, rec.Code, "%s %s/", m, path)
			assert.Equal(t, path, rec.Header().Get("Location"), "%s %s/", m, path)
			assert.NotContains(t, rec.Body.String(), "error", "%s %s/: the endpoint answered", m, path)
		}
	}
}
