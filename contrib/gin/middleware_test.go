package ginoauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	ginoauth "github.com/oauth2provider/oauth2provider/contrib/gin"
	"github.com/oauth2provider/oauth2provider/internal/adaptertest"
	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newRouter mounts p and an API group behind the bearer policy,
// /api/notes also requiring "write", as adaptertest.Router describes.
// reached counts handler runs, after counts runs of a gin middleware
// placed after the policy.
func newRouter(p *provider.Provider) adaptertest.Router {
	reached, after := new(int), new(int)
	r := gin.New()
	ginoauth.Mount(r, p, ginoauth.Paths{})
	api := r.Group("/api", ginoauth.Middleware(policy.Bearer(p)), func(c *gin.Context) {
		*after++
		c.Next()
	})
	me := func(c *gin.Context) {
		*reached++
		id, ok := ginoauth.Identity(c)
		if !ok {
			c.Status(http.StatusInternalServerError)
			return
		}
		c.JSON(http.StatusOK, gin.H{"user_id": id.UserID, "client_id": id.ClientID, "scope": id.Scopes, "auth": id.Method})
	}
	api.GET("/me", me)
	api.GET("/notes", ginoauth.Middleware(policy.Require("write")), me)
	return adaptertest.Router{Handler: r, Reached: reached, After: after}
}

func TestMiddleware(t *testing.T) {
	adaptertest.TestMiddleware(t, "gin", newRouter)
}

func TestIdentityWithoutPolicy(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	got, ok := ginoauth.Identity(c)
	assert.False(t, ok, "a context without a request")
	assert.Zero(t, got)

	assert.NotPanics(t, func() { got, ok = ginoauth.Identity(nil) })
	assert.False(t, ok, "no context")
	assert.Zero(t, got)

	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	_, ok = ginoauth.Identity(c)
	assert.False(t, ok, "a request no policy authenticated")

	want := policy.Identity{UserID: "u", ClientID: "c", Method: policy.MethodBearer}
	c.Request = c.Request.WithContext(policy.WithIdentity(c.Request.Context(), want))
	got, ok = ginoauth.Identity(c)
	require.True(t, ok)
	assert.Equal(t, want, got)
}

// TestMiddlewareOnTestContext runs the adapter on a bare context from
// gin.CreateTestContext, as a unit test of a handler would.
func TestMiddlewareOnTestContext(t *testing.T) {
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	ginoauth.Middleware(policy.Bearer(providertest.NewProvider(t)))(c)
	assert.True(t, c.IsAborted())
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestMiddlewarePanicsWithoutPolicy(t *testing.T) {
	assert.PanicsWithValue(t, "ginoauth: Middleware needs a policy", func() { ginoauth.Middleware(nil) })
}

// A *gin.Context is a context.Context, but gin looks a non-string key up
// in the request's context only when the engine's ContextWithFallback is
// set: without it policy.IdentityFrom(c) finds nothing, as Identity's doc
// says; c.Request.Context() carries the identity either way.
func TestIdentityFromGinContext(t *testing.T) {
	p := providertest.NewProvider(t)
	tok := providertest.PasswordToken(t, p.TokenHandler(), "read")
	for _, fallback := range []bool{false, true} {
		r := gin.New()
		r.ContextWithFallback = fallback
		var viaGin, viaRequest bool
		r.GET("/me", ginoauth.Middleware(policy.Bearer(p)), func(c *gin.Context) {
			_, viaGin = policy.IdentityFrom(c)
			_, viaRequest = policy.IdentityFrom(c.Request.Context())
			c.Status(http.StatusNoContent)
		})
		require.Equal(t, http.StatusNoContent, providertest.Get(r, "/me", tok).Code)
		assert.True(t, viaRequest)
		assert.Equal(t, fallback, viaGin, "ContextWithFallback %v", fallback)
	}
}

// TestMiddlewareRunsChainInsidePolicy checks that the rest of the gin
// chain runs inside the policy's call of next, as it does with net/http:
// a policy that holds something around next (a span, a deferred cleanup,
// a recover) covers the handlers after it.
func TestMiddlewareRunsChainInsidePolicy(t *testing.T) {
	inside := false
	around := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inside = true
			defer func() { inside = false }()
			next.ServeHTTP(w, r)
		})
	}
	var ranInside bool
	r := gin.New()
	r.GET("/x", ginoauth.Middleware(around), func(c *gin.Context) {
		ranInside = inside
		c.Status(http.StatusNoContent)
	})
	require.Equal(t, http.StatusNoContent, providertest.Get(r, "/x", "").Code)
	assert.True(t, ranInside, "the handler ran after the policy had returned")
}

// TestMiddlewareRecoveredPanicStopsChain checks that a panic recovered
// by a policy run through the adapter (a net/http recoverer answering
// 500) ends the gin chain, as it ends the handler chain the recoverer
// wraps in net/http: gin's own loop went on to the handlers after the
// one that panicked, so a policy that panicked before letting the
// request through left the protected handler to run unauthenticated.
func TestMiddlewareRecoveredPanicStopsChain(t *testing.T) {
	recoverer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if recover() != nil {
					w.WriteHeader(http.StatusInternalServerError)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
	panics := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("store down") })
	}
	reached, after := 0, 0
	r := gin.New()
	r.Use(func(c *gin.Context) {
		c.Next()
		after++
	})
	r.POST("/notes", ginoauth.Middleware(recoverer), ginoauth.Middleware(panics), func(c *gin.Context) {
		reached++
		c.Status(http.StatusCreated)
	})
	r.POST("/ok", ginoauth.Middleware(recoverer), func(c *gin.Context) {
		reached++
		c.Status(http.StatusCreated)
	})

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/notes", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Zero(t, reached, "the handler after the policy that panicked ran")
	assert.Equal(t, 1, after, "the middleware before the recoverer runs on")

	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/ok", nil))
	assert.Equal(t, http.StatusCreated, rec.Code)
	assert.Equal(t, 1, reached)
}

// TestMiddlewareAbortsOnlyOnRefusal checks what the gin middleware
// before the adapter sees once the chain has run: c.IsAborted() is true
// after the policy answered itself and false after it let the request
// through (the handler ran to its end).
func TestMiddlewareAbortsOnlyOnRefusal(t *testing.T) {
	p := providertest.NewProvider(t)
	tok := providertest.PasswordToken(t, p.TokenHandler(), "read")
	var aborted bool
	r := gin.New()
	r.Use(func(c *gin.Context) {
		c.Next()
		aborted = c.IsAborted()
	})
	r.GET("/me", ginoauth.Middleware(policy.Bearer(p)), func(c *gin.Context) { c.Status(http.StatusNoContent) })

	require.Equal(t, http.StatusUnauthorized, providertest.Get(r, "/me", "").Code)
	assert.True(t, aborted, "refused")
	require.Equal(t, http.StatusNoContent, providertest.Get(r, "/me", tok).Code)
	assert.False(t, aborted, "let through")
}

// TestMiddlewareSilentRefusal runs a policy that neither calls next nor
// writes anything: the handler does not run and the answer is what
// net/http sends for a handler that wrote nothing, 200 with no body.
func TestMiddlewareSilentRefusal(t *testing.T) {
	silent := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	}
	reached := 0
	r := gin.New()
	r.GET("/x", ginoauth.Middleware(silent), func(c *gin.Context) {
		reached++
		c.Status(http.StatusNoContent)
	})
	rec := providertest.Get(r, "/x", "")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, rec.Body.String())
	assert.Zero(t, reached)
}

// TestMiddlewarePassesPolicyRequest checks that the handlers after the
// policy get the request it passed on, not only its context: here
// net/http.StripPrefix, whose request has the prefix taken off its path.
func TestMiddlewarePassesPolicyRequest(t *testing.T) {
	strip := func(next http.Handler) http.Handler { return http.StripPrefix("/v1", next) }
	r := gin.New()
	r.GET("/v1/*rest", ginoauth.Middleware(strip), func(c *gin.Context) {
		c.String(http.StatusOK, c.Request.URL.Path)
	})
	rec := providertest.Get(r, "/v1/notes", "")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "/notes", rec.Body.String())
}
