package provider_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

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
	assert.Equal(t, []string{"/oauth2/token", "/oauth2/revoke", "/.well-known/oauth-authorization-server/tenant"},
		paths(e.p.Routes(provider.RoutePaths{})), "the configured paths; an endpoint not served is left out")

	var wrapped []string
	rs := e.p.Routes(provider.RoutePaths{
		Token: "/token", Revoke: provider.EndpointNotServed, Introspect: "/introspect",
		Wrap: func(path string, h http.Handler) http.Handler { wrapped = append(wrapped, path); return h },
	})
	assert.Equal(t, []string{"/token", "/introspect", "/.well-known/oauth-authorization-server/tenant"}, paths(rs),
		"a given path wins, even for an endpoint the provider does not advertise")
	assert.Equal(t, paths(rs), wrapped, "Wrap sees each mounted endpoint once")
}
