package echooauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	echooauth "github.com/oauth2provider/oauth2provider/contrib/echo"
	"github.com/oauth2provider/oauth2provider/internal/adaptertest"
	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage/memory"
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

// A method Echo's Any leaves out (QUERY, say) reaches the provider's
// handler too, as it does on net/http.ServeMux: 405 with the endpoint's
// own Allow header and JSON error, not Echo's 405 listing every method
// Any registered (GET among them, on the token endpoint). On a group as
// on the root router.
func TestMountOtherMethods(t *testing.T) {
	p := providertest.NewProvider(t)
	root := newMounted(p)
	onGroup := echo.New()
	echooauth.Mount(onGroup.Group("/auth"), p, echooauth.Paths{})
	for _, tc := range []struct {
		name   string
		r      http.Handler
		prefix string
	}{{"root", root, ""}, {"group", onGroup, "/auth"}} {
		for _, m := range []string{"QUERY", "FOO"} {
			for path, allow := range map[string]string{
				provider.DefaultTokenPath:         http.MethodPost,
				provider.DefaultRevocationPath:    http.MethodPost,
				provider.DefaultIntrospectionPath: http.MethodPost,
				provider.WellKnownMetadataPath:    "GET, HEAD",
			} {
				rec := httptest.NewRecorder()
				tc.r.ServeHTTP(rec, httptest.NewRequest(m, tc.prefix+path, nil))
				assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, "%s %s %s", tc.name, m, path)
				assert.Equal(t, allow, rec.Header().Get("Allow"), "%s %s %s", tc.name, m, path)
				assert.Contains(t, rec.Body.String(), `"error":"invalid_request"`, "%s %s %s", tc.name, m, path)
			}
		}
		rec := httptest.NewRecorder()
		tc.r.ServeHTTP(rec, httptest.NewRequest("QUERY", tc.prefix+provider.DefaultTokenPath+"/x", nil))
		assert.Equal(t, http.StatusNotFound, rec.Code, "%s: a path under an endpoint is not the endpoint", tc.name)
	}
}

// An endpoint is served at its path only, as on net/http.ServeMux: with a
// trailing slash it is Echo's 404, for every method.
func TestMountTrailingSlash(t *testing.T) {
	e := newMounted(providertest.NewProvider(t))
	for _, path := range []string{
		provider.DefaultTokenPath, provider.DefaultRevocationPath,
		provider.DefaultIntrospectionPath, provider.WellKnownMetadataPath,
	} {
		for _, m := range []string{http.MethodPost, http.MethodGet, "QUERY"} {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(m, path+"/", nil))
			assert.Equal(t, http.StatusNotFound, rec.Code, "%s %s/", m, path)
		}
	}
}

// The recipe of Paths' doc for a group (see
// adaptertest.TestMountOnGroupAsPathsSay).
func TestMountOnGroupAsPathsSays(t *testing.T) {
	store := memory.New(memory.Config{})
	p := providertest.NewProviderOn(t, store, store, func(c *provider.Config) { c.Issuer = providertest.Issuer + "/auth" })
	adaptertest.TestMountOnGroupAsPathsSay(t, p, func(group, root provider.RoutePaths) http.Handler {
		e := echo.New()
		echooauth.Mount(e.Group("/auth"), p, group)
		echooauth.Mount(e, p, root)
		return e
	})
}

// anyOnly is a Router with Any only, not Echo's RouteNotFound.
type anyOnly struct{ e *echo.Echo }

func (a anyOnly) Any(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) []*echo.Route {
	return a.e.Any(path, h, m...)
}

// On a Router without RouteNotFound, Mount serves the endpoints through
// Any, and a method Any leaves out gets Echo's own answer, as Mount's doc
// says.
func TestMountOnAnyOnlyRouter(t *testing.T) {
	e := echo.New()
	echooauth.Mount(anyOnly{e}, providertest.NewProvider(t), echooauth.Paths{})
	tok := providertest.PasswordToken(t, e, "read")
	assert.NotEmpty(t, tok)
	assert.Equal(t, http.StatusOK, providertest.Get(e, provider.WellKnownMetadataPath, "").Code)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("QUERY", provider.DefaultTokenPath, nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.NotEqual(t, http.MethodPost, rec.Header().Get("Allow"), "Echo's 405, not the endpoint's")
	assert.NotContains(t, rec.Body.String(), "invalid_request")
}
