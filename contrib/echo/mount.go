package echooauth

import (
	"github.com/labstack/echo/v4"
	"github.com/oauth2provider/oauth2provider/provider"
)

// Router is where [Mount] registers routes: an *echo.Echo or an
// *echo.Group.
type Router interface {
	// Any registers handler for every method at path, as Echo's Any does.
	Any(path string, handler echo.HandlerFunc, middleware ...echo.MiddlewareFunc) []*echo.Route
}

// notFoundRouter is a Router that also registers Echo's RouteNotFound
// routes, as *echo.Echo and *echo.Group do.
type notFoundRouter interface {
	RouteNotFound(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
}

// Compile-time checks that Echo's routers are Routers, with
// RouteNotFound.
var (
	_ Router         = (*echo.Echo)(nil)
	_ Router         = (*echo.Group)(nil)
	_ notFoundRouter = (*echo.Echo)(nil)
	_ notFoundRouter = (*echo.Group)(nil)
)

// Paths are where [Mount] puts the provider's endpoints, and how it
// wraps their handlers: see [provider.RoutePaths]. The paths are from the
// host's root (the issuer's path, then provider.Config.Endpoints; the
// metadata under /.well-known, RFC 8414 §3), where the metadata document
// advertises them: Mount on the root router. On a group, whose prefix
// comes first, the document would send clients where nothing is served,
// unless every path is given here relative to the group, so that the
// group's prefix followed by it is the path the document advertises, and
// the metadata document is mounted at the root on its own (Metadata
// [provider.EndpointNotServed] on the group; a second Mount on the root
// router with the three other paths EndpointNotServed).
type Paths = provider.RoutePaths

// Mount registers the provider's token, revocation, introspection and
// metadata handlers on r at paths, for every HTTP method: each handler
// answers a method it does not serve with 405 and an Allow header
// itself, as it does on any router. A method Echo's Any leaves out
// (QUERY, say) reaches the handler through a RouteNotFound route at the
// same path, which *echo.Echo and *echo.Group have; on a Router without
// RouteNotFound, Echo answers such a method itself. The handlers see the
// request as Echo received it, so put Mount on a router or group without
// authentication middleware: clients authenticate to these endpoints
// themselves.
//
// Mount panics if p is nil.
func Mount(r Router, p *provider.Provider, paths Paths) {
	if p == nil {
		panic("echooauth: Mount needs a provider")
	}
	nf, _ := r.(notFoundRouter)
	for _, rt := range p.Routes(paths) {
		h := echo.WrapHandler(rt.Handler)
		r.Any(rt.Path, h)
		if nf != nil {
			// Echo answers a method Any did not register with its own 405,
			// whose Allow lists every method Any did: the route Echo runs
			// instead, when it has one, is the handler's.
			nf.RouteNotFound(rt.Path, h)
		}
	}
}
