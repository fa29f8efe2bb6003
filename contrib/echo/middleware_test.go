package echooauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	echooauth "github.com/oauth2provider/oauth2provider/contrib/echo"
	"github.com/oauth2provider/oauth2provider/internal/adaptertest"
	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newRouter mounts p and an API group behind the bearer policy,
// /api/notes also requiring "write", as adaptertest.Router describes, and
// /api/fails, whose handler returns an error. reached counts handler
// runs, after counts runs of an Echo middleware placed after the policy.
func newRouter(p *provider.Provider) adaptertest.Router {
	reached, after := new(int), new(int)
	e := newMounted(p)
	api := e.Group("/api", echooauth.Middleware(policy.Bearer(p)), func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			*after++
			return next(c)
		}
	})
	me := func(c echo.Context) error {
		*reached++
		id, ok := echooauth.Identity(c)
		if !ok {
			return errors.New("no identity")
		}
		return c.JSON(http.StatusOK, map[string]any{"user_id": id.UserID, "client_id": id.ClientID, "scope": id.Scopes, "auth": id.Method})
	}
	api.GET("/me", me)
	api.GET("/notes", me, echooauth.Middleware(policy.Require("write")))
	api.GET("/fails", func(echo.Context) error {
		return echo.NewHTTPError(http.StatusTeapot, "handler error")
	})
	return adaptertest.Router{Handler: e, Reached: reached, After: after}
}

func TestMiddleware(t *testing.T) {
	adaptertest.TestMiddleware(t, "Echo", newRouter)

	t.Run("a handler's error reaches Echo's error handler", func(t *testing.T) {
		e := newRouter(providertest.NewProvider(t)).Handler
		rec := providertest.Get(e, "/api/fails", providertest.PasswordToken(t, e, "read"))
		assert.Equal(t, http.StatusTeapot, rec.Code)
	})
}

// TestMiddlewareOnContext runs the adapter on a context from
// echo.New().NewContext, as a unit test of a handler would.
func TestMiddlewareOnContext(t *testing.T) {
	p := providertest.NewProvider(t)
	tok := providertest.PasswordToken(t, newMounted(p), "read")
	mw := echooauth.Middleware(policy.Bearer(p))
	var got policy.Identity
	h := mw(func(c echo.Context) error {
		got, _ = echooauth.Identity(c)
		return c.NoContent(http.StatusNoContent)
	})

	e := echo.New()
	rec := httptest.NewRecorder()
	require.NoError(t, h(e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Empty(t, got.UserID)

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec = httptest.NewRecorder()
	require.NoError(t, h(e.NewContext(req, rec)))
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, providertest.UserID, got.UserID)
}

func TestIdentityWithoutPolicy(t *testing.T) {
	e := echo.New()
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	_, ok := echooauth.Identity(c)
	assert.False(t, ok, "a request no policy authenticated")

	want := policy.Identity{UserID: "u", ClientID: "c", Method: policy.MethodBearer}
	c.SetRequest(c.Request().WithContext(policy.WithIdentity(c.Request().Context(), want)))
	got, ok := echooauth.Identity(c)
	require.True(t, ok)
	assert.Equal(t, want, got)

	got, ok = echooauth.Identity(nil)
	assert.False(t, ok, "no context")
	assert.Zero(t, got)

	c = e.NewContext(nil, httptest.NewRecorder())
	assert.NotPanics(t, func() { got, ok = echooauth.Identity(c) })
	assert.False(t, ok, "a context without a request")
	assert.Zero(t, got)
}

// TestMiddlewareRefusalIsCommitted checks that a refusal goes through
// Echo's Response: the middleware before the adapter (a request logger,
// say) sees the policy's status and a committed response, not a 200.
func TestMiddlewareRefusalIsCommitted(t *testing.T) {
	p := providertest.NewProvider(t)
	e := echo.New()
	var status int
	var committed bool
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			status, committed = c.Response().Status, c.Response().Committed
			return err
		}
	}, echooauth.Middleware(policy.Bearer(p)))
	e.GET("/api/me", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	rec := providertest.Get(e, "/api/me", "")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.True(t, committed)
}

func TestMiddlewarePanicsWithoutPolicy(t *testing.T) {
	assert.PanicsWithValue(t, "echooauth: Middleware needs a policy", func() { echooauth.Middleware(nil) })
}

// TestMiddlewareSilentRefusal runs a policy that neither calls next nor
// writes anything: the next handler does not run, the middleware returns
// nil and the answer is what net/http sends for a handler that wrote
// nothing, 200 with no body.
func TestMiddlewareSilentRefusal(t *testing.T) {
	silent := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	}
	reached := 0
	e := echo.New()
	e.GET("/x", func(c echo.Context) error {
		reached++
		return c.NoContent(http.StatusNoContent)
	}, echooauth.Middleware(silent))
	rec := providertest.Get(e, "/x", "")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, rec.Body.String())
	assert.Zero(t, reached)
}

// TestMiddlewarePassesPolicyRequest checks that the handler after the
// policy gets the request it passed on, not only its context: here
// net/http.StripPrefix, whose request has the prefix taken off its path.
func TestMiddlewarePassesPolicyRequest(t *testing.T) {
	strip := func(next http.Handler) http.Handler { return http.StripPrefix("/v1", next) }
	e := echo.New()
	e.GET("/v1/*", func(c echo.Context) error {
		return c.String(http.StatusOK, c.Request().URL.Path)
	}, echooauth.Middleware(strip))
	rec := providertest.Get(e, "/v1/notes", "")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "/notes", rec.Body.String())
}

// TestMiddlewareReturnsHandlerError checks that the handler's error comes
// back out of the adapter, to the Echo middleware before it (an error
// logger, say), and is answered once, by Echo's error handler.
func TestMiddlewareReturnsHandlerError(t *testing.T) {
	p := providertest.NewProvider(t)
	tok := providertest.PasswordToken(t, newMounted(p), "read")
	handlerErr := echo.NewHTTPError(http.StatusTeapot, "handler error")
	var seen error
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			seen = next(c)
			return seen
		}
	}, echooauth.Middleware(policy.Bearer(p)))
	e.GET("/api/fails", func(echo.Context) error { return handlerErr })

	rec := providertest.Get(e, "/api/fails", tok)
	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.Same(t, handlerErr, seen)
}
