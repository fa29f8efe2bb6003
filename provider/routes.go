package provider

import "net/http"

// RoutePaths says where [Provider.Routes] puts the provider's endpoints,
// as paths from the host's root. An empty field means where the provider's
// metadata document says the endpoint is: Config.Endpoints after the path
// of Config.Issuer, and [Provider.MetadataPath]; [EndpointNotServed] ("-")
// leaves the endpoint out, and so does an endpoint the provider is
// configured not to serve, unless a path is given here.
type RoutePaths struct {
	// Token is the token endpoint (RFC 6749 §3.2).
	Token string
	// Revoke is the revocation endpoint (RFC 7009).
	Revoke string
	// Introspect is the introspection endpoint (RFC 7662).
	Introspect string
	// Metadata is the authorization server metadata endpoint (RFC 8414).
	Metadata string

	// Wrap, when not nil, wraps each endpoint's handler; it is given the
	// path the handler goes to and the handler. The method value Handler
	// of the contrib/otel module's Instrumentation fits it, for a span and
	// metrics per endpoint. Nil means the handlers as they are.
	Wrap func(path string, h http.Handler) http.Handler
}

// Route is one endpoint of the provider and the path it goes to.
type Route struct {
	Path    string       // the path under which the handler is mounted
	Handler http.Handler // the endpoint, wrapped by RoutePaths.Wrap when set
}

// Routes returns the token, revocation, introspection and metadata
// endpoints at the paths that paths resolves to, for the host's root router
// (or a framework adapter on it) to mount for every method: each handler
// answers a method it does not serve with 405 and an Allow header itself.
// With an issuer that has a path ("https://example.com/tenant") the
// endpoints go under it ("/tenant/oauth2/token"), where the metadata
// document advertises them, and the metadata under the host's root
// ("/.well-known/oauth-authorization-server/tenant", RFC 8414 §3). The
// authorization endpoint is not among them: it needs an [AuthorizeConfig].
func (p *Provider) Routes(paths RoutePaths) []Route {
	e := p.cfg.Endpoints
	prefix := p.issuerPath()
	under := func(path string) string {
		if path == EndpointNotServed {
			return path
		}
		return prefix + path
	}
	if paths.Token == "" {
		paths.Token = under(e.Token)
	}
	if paths.Revoke == "" {
		paths.Revoke = under(e.Revocation)
	}
	if paths.Introspect == "" {
		paths.Introspect = under(e.Introspection)
	}
	if paths.Metadata == "" {
		paths.Metadata = p.MetadataPath()
	}
	all := []Route{
		{paths.Token, p.TokenHandler()},
		{paths.Revoke, p.RevokeHandler()},
		{paths.Introspect, p.IntrospectHandler()},
		{paths.Metadata, p.MetadataHandler()},
	}
	out := all[:0]
	for _, rt := range all {
		if rt.Path == EndpointNotServed {
			continue
		}
		if paths.Wrap != nil {
			rt.Handler = paths.Wrap(rt.Path, rt.Handler)
		}
		out = append(out, rt)
	}
	return out
}
