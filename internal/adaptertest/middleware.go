package adaptertest

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Router is a framework's router set up for [TestMiddleware], with the
// counters its handlers and middleware increment.
type Router struct {
	// Handler serves the provider's endpoints, mounted by the adapter at
	// their default paths, and a group /api whose chain is the adapter's
	// Middleware running policy.Bearer(p), then a framework middleware
	// counting in After, then the handler. GET /api/me counts in Reached
	// and answers 200 with the JSON object {"user_id", "client_id",
	// "scope", "auth"} from the adapter's Identity (Scopes and Method for
	// the last two); GET /api/notes is the same handler, behind the
	// adapter's Middleware running policy.Require("write") as well.
	Handler http.Handler
	// Reached counts runs of the /api handler.
	Reached *int
	// After counts runs of the framework middleware placed after the
	// bearer policy.
	After *int
}

// TestMiddleware checks an adapter's Middleware running the bearer and
// scope policies (RFC 6750): the policy's answer stands and stops the
// framework's chain, and a request it lets through reaches the handler
// with its identity. framework names the framework in failure messages,
// such as "gin"; newRouter builds the [Router] over p.
func TestMiddleware(t *testing.T, framework string, newRouter func(p *provider.Provider) Router) {
	rt := newRouter(providertest.NewProvider(t))
	r, reached, after := rt.Handler, rt.Reached, rt.After
	readToken := providertest.PasswordToken(t, r, "read")
	writeToken := providertest.PasswordToken(t, r, "read write")

	tests := []struct {
		name, path, token string
		status            int
		challenge         string // WWW-Authenticate prefix; empty: none expected
		passed            bool
	}{
		{"RFC6750 3.1 no token is 401 with a bare challenge", "/api/me", "", http.StatusUnauthorized, `Bearer realm="oauth2provider"`, false},
		{"RFC6750 3.1 unknown token is 401 invalid_token", "/api/me", "oat_bogus", http.StatusUnauthorized, `Bearer realm="oauth2provider", error="invalid_token"`, false},
		{"valid token passes with its identity", "/api/me", readToken, http.StatusOK, "", true},
		{"RFC6750 3.1 missing scope is 403 insufficient_scope", "/api/notes", readToken, http.StatusForbidden, `Bearer realm="oauth2provider", error="insufficient_scope"`, false},
		{"token with the scope passes Require", "/api/notes", writeToken, http.StatusOK, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			*reached, *after = 0, 0
			rec := providertest.Get(r, tc.path, tc.token)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.challenge != "" {
				assert.Contains(t, rec.Header().Get("WWW-Authenticate"), tc.challenge)
			} else {
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
			}
			if !tc.passed {
				assert.Zero(t, *reached, "the handler ran after the policy answered")
				if tc.status == http.StatusUnauthorized {
					assert.Zero(t, *after, "the "+framework+" chain went on after the policy answered")
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
			assert.Equal(t, providertest.UserID, body.UserID)
			assert.Equal(t, providertest.ClientID, body.ClientID)
			assert.Equal(t, policy.MethodBearer, body.Auth)
			assert.Contains(t, body.Scope, "read")
		})
	}
}
