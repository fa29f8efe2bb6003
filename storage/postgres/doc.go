// Package postgres is a PostgreSQL backend of the provider's stores: one
// [Store] implements [storage.ClientStore], [storage.TokenStore] and
// [storage.Cleaner] on a [pgxpool.Pool] the caller owns.
//
// # What it needs
//
// PostgreSQL 12 or later and a pgx/v5 pool. The tables (oauth2_clients,
// oauth2_grants, oauth2_tokens and the version table oauth2_schema_version)
// are found through the connections' search_path, so to keep them in their
// own schema set search_path in the pool's config to that schema alone
// (with another schema on the path, say public, tables found there would be
// taken as the store's), e.g.
//
//	cfg, _ := pgxpool.ParseConfig(url)
//	cfg.ConnConfig.RuntimeParams["search_path"] = "oauth2"
//
// (create the schema first: Migrate creates tables, not schemas).
//
// Tokens are kept as their SHA-256 only ([storage.Hash]) and client secrets
// in the hashed form of [storage.HashGeneratedSecret] or
// [storage.HashSecret]: a dump of the tables gives no usable token or
// secret.
//
// Times are kept to the microsecond, as PostgreSQL does, and read back in
// UTC.
//
// # Migrations
//
// The schema is a set of versioned SQL migrations embedded in the binary,
// applied by [Migrate] (with github.com/jackc/tern/v2). [New] never
// migrates: run Migrate at deploy time, or at start-up before serving:
//
//	if err := postgres.Migrate(ctx, pool); err != nil { ... }
//	store := postgres.New(pool, postgres.Config{})
//
// Migrate is safe to run from every instance at once: a PostgreSQL
// advisory lock lets one migrator apply each migration and the others then
// find the schema up to date. [SchemaVersion] reports the applied and the
// latest version, for a start-up check.
//
// # Expiry and the janitor
//
// Expiry is judged against [Config.Now] in every query, so an expired or
// revoked token is never returned, but its rows stay until they are
// deleted. Run a janitor that calls [Store.DeleteExpired] in bounded
// batches, for instance every few minutes from one instance:
//
//	for {
//		n, err := store.DeleteExpired(ctx, 1000)
//		if err != nil || n < 1000 {
//			break
//		}
//	}
//
// A revoked grant is deleted with its tokens once none of its consumed
// refresh tokens is unexpired: until then presenting one is still detected
// as reuse (RFC 9700 §4.14.2). Expired tokens of live grants are deleted
// too. Concurrent janitors skip each other's rows.
//
// # Round trips
//
// [Store.LookupToken], the hot path of every authenticated request, is a
// single SELECT joining the token and its grant. [Store.ExchangeToken]
// (refresh token rotation) locks the token row, so of concurrent exchanges
// of one token exactly one wins: without [storage.Exchange.Check] it is one
// statement (one round trip), with it one transaction.
// [storage.Exchange.ReuseGrace] costs a live token's exchange nothing
// more: whether a consumed refresh token is within it is judged on the
// row the exchange reads anyway (its consumed_at, the instant of its
// first consumption, which a later exchange within the grace does not
// rewrite), against the store's clock less the grace, to the
// microsecond as expiry is; only for a consumed token within it are the
// grant's tokens read (by the index on grant_id), to find one consumed
// after it, which ends the grace: in the same statement without
// [storage.Exchange.Check], in one more with it.
package postgres
