package adaptertest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
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

// outageStore is a TokenStore whose LookupToken fails while down is set,
// as a backend that is down does. It hides the memory store's
// TokenInfoFiller, so that the bearer policy looks tokens up with it.
type outageStore struct {
	storage.TokenStore
	down *atomic.Bool
}

func (s outageStore) LookupToken(ctx context.Context, kind storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	if s.down.Load() {
		return nil, errors.New("adaptertest: store down")
	}
	return s.TokenStore.LookupToken(ctx, kind, ref)
}

// TestMiddleware checks an adapter's Middleware running the bearer and
// scope policies (RFC 6750): the policy's answer stands, exactly as the
// policy gives it on net/http (status, headers and JSON body), and stops
// the framework's chain, and a request it lets through reaches the
// handler with its identity. framework names the framework in failure
// messages, such as "gin"; newRouter builds the [Router] over p.
func TestMiddleware(t *testing.T, framework string, newRouter func(p *provider.Provider) Router) {
	store := memory.New(memory.Config{})
	down := new(atomic.Bool)
	p := providertest.NewProviderOn(t, store, outageStore{TokenStore: store, down: down}, nil)
	rt := newRouter(p)
	r, reached, after := rt.Handler, rt.Reached, rt.After
	readToken := providertest.PasswordToken(t, r, "read")
	writeToken := providertest.PasswordToken(t, r, "read write")

	// The same policies on net/http: the answers the adapter must give.
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	plain := http.NewServeMux()
	plain.Handle("GET /api/me", policy.Bearer(p)(ok))
	plain.Handle("GET /api/notes", policy.Bearer(p)(policy.Require("write")(ok)))

	tests := []struct {
		name, path, token string
		down              bool // the token store is down
		status            int
		challenge         string // WWW-Authenticate prefix; empty: none expected
		passed            bool
	}{
		{"RFC6750 3.1 no token is 401 with a bare challenge", "/api/me", "", false, http.StatusUnauthorized, `Bearer realm="oauth2provider"`, false},
		{"RFC6750 3.1 unknown token is 401 invalid_token", "/api/me", "oat_bogus", false, http.StatusUnauthorized, `Bearer realm="oauth2provider", error="invalid_token"`, false},
		{"valid token passes with its identity", "/api/me", readToken, false, http.StatusOK, "", true},
		{"RFC6750 3.1 missing scope is 403 insufficient_scope", "/api/notes", readToken, false, http.StatusForbidden, `Bearer realm="oauth2provider", error="insufficient_scope"`, false},
		{"token with the scope passes Require", "/api/notes", writeToken, false, http.StatusOK, "", true},
		{"a store outage is 503 temporarily_unavailable", "/api/me", readToken, true, http.StatusServiceUnavailable, `Bearer realm="oauth2provider"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			*reached, *after = 0, 0
			down.Store(tc.down)
			defer down.Store(false)
			rec := providertest.Get(r, tc.path, tc.token)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.challenge != "" {
				assert.Contains(t, rec.Header().Get("WWW-Authenticate"), tc.challenge)
			} else {
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
			}
			if !tc.passed {
				want := providertest.Get(plain, tc.path, tc.token)
				require.Equal(t, tc.status, want.Code, "net/http: %s", want.Body.String())
				assert.Equal(t, want.Header(), rec.Header(), "the "+framework+" answer's headers are not the policy's")
				assert.JSONEq(t, want.Body.String(), rec.Body.String(), "the "+framework+" answer's body is not the policy's")
				assert.Equal(t, want.Body.String(), rec.Body.String())
				assert.Zero(t, *reached, "the handler ran after the policy answered")
				if tc.path == "/api/me" { // /api/notes: Require refuses after the framework middleware
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
