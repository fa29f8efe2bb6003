package provider_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
)

func TestRoutes(t *testing.T) {
	paths := func(rs []provider.Route) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Path)
		}
		return out
	}
	e := newEnv(t, func(c *provider.Config) {
		c.Issuer = "https://auth.example.com/tenant"
		c.Endpoints.Introspection = provider.EndpointNotServed
	})
	assert.Equal(t, []string{"/tenant/oauth2/token", "/tenant/oauth2/revoke", "/.well-known/oauth-authorization-server/tenant"},
		paths(e.p.Routes(provider.RoutePaths{})), "the configured paths under the issuer's; the metadata at the root (RFC 8414 §3); an endpoint not served is left out")

	var wrapped []string
	rs := e.p.Routes(provider.RoutePaths{
		Token: "/token", Revoke: provider.EndpointNotServed, Introspect: "/introspect",
		Wrap: func(path string, h http.Handler) http.Handler { wrapped = append(wrapped, path); return h },
	})
	assert.Equal(t, []string{"/token", "/introspect", "/.well-known/oauth-authorization-server/tenant"}, paths(rs),
		"a given path wins, even for an endpoint the provider does not advertise")
	assert.Equal(t, paths(rs), wrapped, "Wrap sees each mounted endpoint once")
}

// Every endpoint the metadata document advertises is where Routes mounts
// it, with an issuer that has a path as without: a client that discovers
// the token endpoint finds it.
func TestRoutesServeWhatTheMetadataAdvertises(t *testing.T) {
	for _, issuer := range []string{"https://auth.example.com", "https://auth.example.com/tenant", "https://auth.example.com/a/b/"} {
		t.Run(issuer, func(t *testing.T) {
			e := newEnv(t, func(c *provider.Config) { c.Issuer = issuer })
			mux := http.NewServeMux()
			for _, rt := range e.p.Routes(provider.RoutePaths{}) {
				mux.Handle(rt.Path, rt.Handler)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://auth.example.com"+e.p.MetadataPath(), nil))
			require.Equal(t, http.StatusOK, w.Code, "metadata at %s", e.p.MetadataPath())
			var m map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m))
			for _, field := range []string{"token_endpoint", "revocation_endpoint", "introspection_endpoint"} {
				u, err := url.Parse(m[field].(string))
				require.NoError(t, err, field)
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, u.String(), nil))
				assert.Equal(t, http.StatusMethodNotAllowed, w.Code, "%s %s: the endpoint answers (405 to GET), not 404", field, u)
			}
		})
	}
}
