package echooauth_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	echooauth "github.com/oauth2provider/oauth2provider/contrib/echo"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newRouter mounts the provider and an API group behind the bearer
// policy, /api/notes also requiring "write". reached counts handler runs,
// after counts runs of an Echo middleware placed after the policy.
func newRouter(t *testing.T) (e *echo.Echo, reached, after *int) {
	t.Helper()
	p := newProvider(t)
	reached, after = new(int), new(int)
	e = echo.New()
	echooauth.Mount(e, p, echooauth.Paths{})
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
	return e, reached, after
}

func TestMiddleware(t *testing.T) {
	e, reached, after := newRouter(t)
	readToken := passwordToken(t, e, "read")
	writeToken := passwordToken(t, e, "read write")

	tests := []struct {
		name, path, token string
		status            int
		challenge         string // WWW-Authenticate prefix; empty: none expected
		passed            bool
	}{
		{"RFC6750 3.1 no token is 401 with a bare challenge", "/api/me", "", http.StatusUnauthorized, `Bearer realm="oauth2provider"`, false},
		{"RFC6750 3.1 unknown token is 401 invalid_token", "/api/me", "oat_bogus", http.StatusUnauthorized, `Bearer realm="oauth2provider", error="invalid_token"`, false},
		{"valid token passes with its identity", "/api/me", readToken, http.StatusOK, "", true},
		{"RFC6750 3.1 missing scope is 403 insufficient_scope", "/api/notes", readToken, http.StatusForbidden, `Bearer error="insufficient_scope"`, false},
		{"token with the scope passes Require", "/api/notes", writeToken, http.StatusOK, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			*reached, *after = 0, 0
			rec := get(e, tc.path, tc.token)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.challenge != "" {
				assert.Contains(t, rec.Header().Get("WWW-Authenticate"), tc.challenge)
			} else {
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
			}
			if !tc.passed {
				assert.Zero(t, *reached, "the handler ran after the policy answered")
				if tc.status == http.StatusUnauthorized {
					assert.Zero(t, *after, "the Echo chain went on after the policy answered")
				}
				return
			}
			assert.Equal(t, 1, *reached)
			assert.Equal(t, 1, *after)
			var body struct {
				UserID   string   `json:"user_id"`
				ClientID string   `json:"client_id"`
				Scope    []string `json:"scope"`
				Auth     string   `json:"auth"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.Equal(t, "user-1", body.UserID)
			assert.Equal(t, clientID, body.ClientID)
			assert.Equal(t, policy.MethodBearer, body.Auth)
			assert.Contains(t, body.Scope, "read")
		})
	}

	t.Run("a handler's error reaches Echo's error handler", func(t *testing.T) {
		rec := get(e, "/api/fails", readToken)
		assert.Equal(t, http.StatusTeapot, rec.Code)
	})
}

// TestMiddlewareOnContext runs the adapter on a context from
// echo.New().NewContext, as a unit test of a handler would.
func TestMiddlewareOnContext(t *testing.T) {
	p := newProvider(t)
	tok := passwordToken(t, newMounted(p), "read")
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
	assert.Equal(t, "user-1", got.UserID)
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

	_, ok = echooauth.Identity(nil)
	assert.False(t, ok, "no context")
}

func TestMiddlewarePanicsWithoutPolicy(t *testing.T) {
	assert.Panics(t, func() { echooauth.Middleware(nil) })
}
