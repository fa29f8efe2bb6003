package ginoauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	ginoauth "github.com/oauth2provider/oauth2provider/contrib/gin"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newRouter mounts the provider and an API group behind the bearer
// policy, /api/notes also requiring "write". reached counts handler runs,
// after counts runs of a gin middleware placed after the policy.
func newRouter(t *testing.T) (r *gin.Engine, reached, after *int) {
	t.Helper()
	p := newProvider(t)
	reached, after = new(int), new(int)
	r = gin.New()
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
	return r, reached, after
}

func TestMiddleware(t *testing.T) {
	r, reached, after := newRouter(t)
	readToken := passwordToken(t, r, "read")
	writeToken := passwordToken(t, r, "read write")

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
			rec := get(r, tc.path, tc.token)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.challenge != "" {
				assert.Contains(t, rec.Header().Get("WWW-Authenticate"), tc.challenge)
			} else {
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
			}
			if !tc.passed {
				assert.Zero(t, *reached, "the handler ran after the policy answered")
				if tc.status == http.StatusUnauthorized {
					assert.Zero(t, *after, "the gin chain went on after the policy answered")
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
}

func TestIdentityWithoutPolicy(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	_, ok := ginoauth.Identity(c)
	assert.False(t, ok, "a context without a request")

	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	_, ok = ginoauth.Identity(c)
	assert.False(t, ok, "a request no policy authenticated")

	want := policy.Identity{UserID: "u", ClientID: "c", Method: policy.MethodBearer}
	c.Request = c.Request.WithContext(policy.WithIdentity(c.Request.Context(), want))
	got, ok := ginoauth.Identity(c)
	require.True(t, ok)
	assert.Equal(t, want, got)
}

// TestMiddlewareOnTestContext runs the adapter on a bare context from
// gin.CreateTestContext, as a unit test of a handler would.
func TestMiddlewareOnTestContext(t *testing.T) {
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	ginoauth.Middleware(policy.Bearer(newProvider(t)))(c)
	assert.True(t, c.IsAborted())
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestMiddlewarePanicsWithoutPolicy(t *testing.T) {
	assert.Panics(t, func() { ginoauth.Middleware(nil) })
}
