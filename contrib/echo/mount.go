package echooauth

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/oauth2provider/oauth2provider/provider"
)

// Router is where [Mount] registers routes: an *echo.Echo or an
// *echo.Group.
type Router interface {
	Any(path string, handler echo.HandlerFunc, middleware ...echo.MiddlewareFunc) []*echo.Route
}

// Compile-time checks that Echo's routers are Routers.
var (
	_ Router = (*echo.Echo)(nil)
	_ Router = (*echo.Group)(nil)
)

// Paths are where [Mount] puts the provider's endpoints. An empty field
// means the path the provider is configured with (provider.Config's
// Endpoints, which its metadata document advertises, and
// Provider.MetadataPath); provider.EndpointNotServed ("-") leaves the
// endpoint out. An endpoint the provider is configured not to serve is
// left out unless a path is given here. On an *echo.Group the group's
// prefix comes first: configure provider.Config.Endpoints with it so
// that the metadata document stays true.
type Paths struct {
	// Token is the token endpoint (RFC 6749 §3.2).
	Token string
	// Revoke is the revocation endpoint (RFC 7009).
	Revoke string
	// Introspect is the introspection endpoint (RFC 7662).
	Introspect string
	// Metadata is the authorization server metadata endpoint (RFC 8414).
	Metadata string

	// Wrap, when not nil, wraps each endpoint's handler before it is
	// mounted; it is given the path the handler is mounted at (relative
	// to the router) and the handler. The method value Handler of the
	// contrib/otel module's Instrumentation fits it, for a span and
	// metrics per endpoint. Nil means the handlers are mounted as they are.
	Wrap func(path string, h http.Handler) http.Handler
}

// resolve fills in the provider's paths for empty fields.
func (ps Paths) resolve(p *provider.Provider) Paths {
	e := p.Config().Endpoints
	if ps.Token == "" {
		ps.Token = e.Token
	}
	if ps.Revoke == "" {
		ps.Revoke = e.Revocation
	}
	if ps.Introspect == "" {
		ps.Introspect = e.Introspection
	}
	if ps.Metadata == "" {
		ps.Metadata = p.MetadataPath()
	}
	return ps
}

// Mount registers the provider's token, revocation, introspection and
// metadata handlers on r at paths, for every HTTP method Echo routes:
// each handler answers a method it does not serve with 405 and an Allow
// header itself, as it does on any router. The handlers see the request
// as Echo received it, so put Mount on a router or group without
// authentication middleware: clients authenticate to these endpoints
// themselves.
//
// Mount panics if p is nil.
func Mount(r Router, p *provider.Provider, paths Paths) {
	if p == nil {
		panic("echooauth: Mount needs a provider")
	}
	paths = paths.resolve(p)
	for _, ep := range []struct {
		path string
		h    http.Handler
	}{
		{paths.Token, p.TokenHandler()},
		{paths.Revoke, p.RevokeHandler()},
		{paths.Introspect, p.IntrospectHandler()},
		{paths.Metadata, p.MetadataHandler()},
	} {
		if ep.path == provider.EndpointNotServed {
			continue
		}
		if paths.Wrap != nil {
			ep.h = paths.Wrap(ep.path, ep.h)
		}
		r.Any(ep.path, echo.WrapHandler(ep.h))
	}
}
