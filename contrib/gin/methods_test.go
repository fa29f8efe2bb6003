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
