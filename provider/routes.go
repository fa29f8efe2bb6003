package provider

import "net/http"

// RoutePaths says where [Provider.Routes] puts the provider's endpoints.
// An empty field means the path the provider is configured with
// (Config.Endpoints, which its metadata document advertises, and
// [Provider.MetadataPath]); [EndpointNotServed] ("-") leaves the endpoint
// out, and so does an endpoint the provider is configured not to serve,
// unless a path is given here.
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
	Path    string
	Handler http.Handler
}

// Routes returns the token, revocation, introspection and metadata
// endpoints at the paths that paths resolves to, for a router (or a
// framework adapter) to mount for every method: each handler answers a
// method it does not serve with 405 and an Allow header itself. The
// authorization endpoint is not among them: it needs an [AuthorizeConfig].
func (p *Provider) Routes(paths RoutePaths) []Route {
	e := p.cfg.Endpoints
	if paths.Token == "" {
		paths.Token = e.Token
	}
	if paths.Revoke == "" {
		paths.Revoke = e.Revocation
	}
	if paths.Introspect == "" {
		paths.Introspect = e.Introspection
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
