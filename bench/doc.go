// Package bench compares oauth2provider with github.com/ory/fosite and
// github.com/go-oauth2/oauth2/v4 on the same work: validating a bearer
// token, a password grant and a refresh grant, each through the library's
// own handlers on its in-memory store (ours also on Redis and Postgres),
// next to a floor of one SHA-256 and one map lookup.
//
// It is a module of its own so that the main module never depends on the
// peers. The benchmarks live in the package's tests; run them with
//
//	go test -run '^$' -bench . -count 10 -benchtime 200ms
//
// and read docs/benchmarks.md for the figures and what they mean. The
// load generator for the quickstart over real HTTP is cmd/load.
package bench
