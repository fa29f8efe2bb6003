package ginoauth

import (
	"github.com/gin-gonic/gin"
	"github.com/oauth2provider/oauth2provider/provider"
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
// metadata handlers on r (a *gin.Engine or a *gin.RouterGroup) at paths,
// for the methods gin's Any registers (GET, POST, PUT, PATCH, HEAD,
// OPTIONS, DELETE, CONNECT and TRACE): each handler answers one of them
// it does not serve with 405 and an Allow header itself, as it does on
// any router. A request with another method (PROPFIND, say) never
// reaches the handlers: gin answers it (404, or 405 when the engine's
// HandleMethodNotAllowed is set). An endpoint is served at its path
// only: with a trailing slash added, gin answers too, with a redirect to
// the path (301 for GET, 307 for the other methods) while the engine's
// RedirectTrailingSlash is set, gin's default, and 404 otherwise. The
// handlers see the request as gin received it, so put Mount on a router
// or group without authentication middleware: clients authenticate to
// these endpoints themselves.
//
// Mount panics if p is nil, or where gin panics on a path it cannot
// register (one not starting with "/", or a conflict).
func Mount(r gin.IRoutes, p *provider.Provider, paths Paths) {
	if p == nil {
		panic("ginoauth: Mount needs a provider")
	}
	for _, rt := range p.Routes(paths) {
		r.Any(rt.Path, gin.WrapH(rt.Handler))
	}
}
