// Package adaptertest holds the tests every framework adapter of the
// provider runs (contrib/gin, contrib/echo), written once against
// net/http, as golang.org/x/net/nettest.TestConn is for net.Conn
// implementations.
//
// An adapter's test builds its framework's router in a small callback and
// hands it over as an http.Handler; the Test functions here issue the
// requests and check the answers, with subtests named after the RFC rule
// they check. The router-specific tests (a handler's error, a framework's
// test context, panics on a nil argument) stay with the adapter.
//
// The package must not import a web framework: the core module never
// depends on one. It lives under internal/ so that only this repository's
// modules, the nested contrib modules among them, can import it.
package adaptertest
