// Package storeurl opens the provider's stores from a URL, for the
// quickstart and oauth2ctl: one string on a command line or in an
// environment variable chooses the backend and everything it needs.
//
// Accepted URLs:
//
//	postgres://user:pass@host:5432/db?sslmode=disable&search_path=oauth2
//	postgresql://…                                       (same)
//	redis://:pass@host:6379/0?prefix=myapp:oauth2:
//	rediss://…                                           (TLS)
//	redis+cluster://host1:6379,host2:6379,host3:6379?prefix=…
//	rediss+cluster://…                                   (cluster over TLS)
//
// A postgres URL is read by pgxpool.ParseConfig, so every libpq keyword and
// pgxpool's pool_* settings work; an unknown query parameter such as
// search_path becomes a run-time parameter of each connection (the tables
// are then found in that schema, which must exist). When the URL sets none,
// connect_timeout is [DefaultTimeout] and statement_timeout twice that, so
// a query on a stuck server ends on the server side too; [Stores.Migrate]
// runs without that statement timeout.
//
// A redis URL is read by goredis.ParseURL (ParseClusterURL for the cluster
// forms, whose first host is the URL's host and whose other hosts become
// addr= parameters), after this package takes out its own parameters:
//
//	prefix          key prefix of the store (redis.Config.Prefix); empty
//	                means redis.DefaultPrefix
//	limiter_prefix  key prefix of the brute-force limiter; empty means
//	                prefix + "limit:"
//	tls             "disable": a redis:// URL may reach a host beyond the
//	                loopback interface without TLS; without it such a URL
//	                is refused ([ErrRedisTLSChoice]): use rediss://
//
// The cluster forms also accept go-redis's own addr= parameters. Sentinel
// has no URL form here: build a goredis.FailoverClient in code.
//
// Every store call is bounded by [Options.Timeout] (default
// [DefaultTimeout]) on top of the caller's context, so an unreachable or
// stuck server is an error within that time and never a hang; the
// provider answers such errors with 503.
package storeurl
