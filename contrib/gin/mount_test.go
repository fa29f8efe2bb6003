package ginoauth_test

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	ginoauth "github.com/oauth2provider/oauth2provider/contrib/gin"
	"github.com/oauth2provider/oauth2provider/internal/adaptertest"
	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/assert"
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

// The recipe of Paths' doc for a group (see
// adaptertest.TestMountOnGroupAsPathsSay).
func TestMountOnGroupAsPathsSays(t *testing.T) {
	store := memory.New(memory.Config{})
	p := providertest.NewProviderOn(t, store, store, func(c *provider.Config) { c.Issuer = providertest.Issuer + "/auth" })
	adaptertest.TestMountOnGroupAsPathsSay(t, p, func(group, root provider.RoutePaths) http.Handler {
		g := gin.New()
		ginoauth.Mount(g.Group("/auth"), p, group)
		ginoauth.Mount(g, p, root)
		return g
	})
}
