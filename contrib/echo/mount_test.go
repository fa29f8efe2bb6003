package echooauth_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
	echooauth "github.com/oauth2provider/oauth2provider/contrib/echo"
	"github.com/oauth2provider/oauth2provider/internal/adaptertest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/stretchr/testify/assert"
)

// The fixture provider, the request helpers and the checks shared with
// contrib/gin live in internal/adaptertest.

// newMounted returns an Echo with p's endpoints at their default paths.
func newMounted(p *provider.Provider) *echo.Echo {
	e := echo.New()
	echooauth.Mount(e, p, echooauth.Paths{})
	return e
}

func TestMountDefaultPaths(t *testing.T) {
	adaptertest.TestMountDefaultPaths(t, func(p *provider.Provider) http.Handler {
		e := newMounted(p)
		e.GET("/me", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, echooauth.Middleware(policy.Bearer(p)))
		return e
	})
}

func TestMountPaths(t *testing.T) {
	adaptertest.TestMountPaths(t, func(p *provider.Provider, paths echooauth.Paths) http.Handler {
		e := echo.New()
		echooauth.Mount(e.Group("/auth"), p, paths)
		return e
	})
}

func TestMountPanicsWithoutProvider(t *testing.T) {
	assert.PanicsWithValue(t, "echooauth: Mount needs a provider", func() { echooauth.Mount(echo.New(), nil, echooauth.Paths{}) })
}
