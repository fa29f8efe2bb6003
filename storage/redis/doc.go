// Package redis stores clients, grants and token hashes in Redis, through a
// go-redis v9 [goredis.UniversalClient]: one code path serves a single
// node (*goredis.Client), Sentinel (goredis.NewFailoverClient) and Redis
// Cluster (*goredis.ClusterClient). Create a store with [New]; the caller
// owns the client. Redis 6.2 or later is assumed (RevokeUser and
// RevokeClient page the indexes with ZRANGE ... BYSCORE).
//
// # Key layout
//
// Every key starts with [Config.Prefix] (default "oauth2:", written P
// below). All keys of one grant share the hash tag of the grant ID, which
// every token carries ([storage.TokenRef]), so a token's keys are computed
// from the ref and a grant lives on one Cluster slot (a grant ID that is
// empty or starts with "}" would give them no hash tag: CreateGrant
// refuses it, and nothing is found under it):
//
//	P{grantID}:g          hash: client, user, scopes, binding, created, code, uname, expires, ix, revoked, rv
//	P{grantID}:ts         sorted set: hex hashes of the grant's tokens, by expiry
//	P{grantID}:t:<hex>    hash: kind, scopes, issued, expires, consumed, by, at
//	P user:{userID}       sorted set: the user's grant IDs, by index horizon
//	P cli:{clientID}      sorted set: the client's grant IDs, by index horizon
//	P client:<clientID>   string: the client, as JSON
//	P clients             sorted set: every client ID (scores 0, so by ID)
//
// (without the spaces). Tokens are stored only as the hex SHA-256 in the key
// name ([storage.Hash]); clients keep only their SecretHash. No token and no
// plain secret is ever stored or put in an error message.
//
// # Expiry
//
// Every grant and token key has a TTL computed from its ExpiresAt and the
// store's clock ([Config.Now]), so Redis reclaims it and the store needs no
// janitor (it does not implement [storage.Cleaner]). Consumed refresh
// tokens and codes stay until their own expiry, so presenting one again is
// detected as reuse, even after the grant was revoked: revocation deletes
// the grant's other tokens and leaves the grant hash, marked revoked, as a
// tombstone as long as the last of its consumed tokens and five minutes
// more (a grant without any, such as a session logged out, keeps only the
// five minutes), never past its own expiry. Expiry is still checked by the scripts against the
// store's clock, so a record is dead the moment the store's clock passes
// its ExpiresAt, whenever Redis drops it. The user and client indexes drop
// entries five minutes past their score whenever they are written and
// carry a TTL up to their latest entry and five minutes more, so they do
// not grow without bound (the five minutes are the clock skew between
// instances the store tolerates: an instance whose clock is ahead does not
// prune a grant that one behind still takes for live). Client keys do not
// expire.
//
// # Atomicity
//
// CreateGrant, ExchangeToken, ExtendToken and RevokeGrant each run as one
// Lua script (EVALSHA) on the keys of one grant, so each is atomic on a
// single node and on a cluster alike. LookupToken, which only reads, reads
// the token and its grant with two HMGETs in one pipeline: one round trip,
// without a script's cost on the server, and needing no transaction (see
// its doc); it judges kind, consumption, revocation and expiry itself. ExchangeToken with a
// [storage.Exchange.Check] makes two script calls: a read-only validation
// whose grant Check inspects, then the exchange itself, which re-validates
// the token and commits only if the grant still holds what Check saw; of
// concurrent exchanges of one token exactly one succeeds, and any later one
// is reuse, which revokes the grant (RFC 9700 §4.14.2), unless it comes
// within [storage.Exchange.ReuseGrace] of the first consumption (recorded
// in the token hash's at) while the grant is live and no token of the
// grant has been consumed since (a later at in its token set; only this
// case scans the set): it is then exchanged too, and the token stays
// consumed.
//
// The user and client indexes live on their own slots, so they are updated
// by a separate call (one pipeline for both), with a score a quarter of
// the grant's lifetime beyond its expiry (its index horizon, recorded in
// the grant): before a grant is created (a stale entry is harmless,
// as revocation through an index checks the grant's user or client), and
// before an exchange or an extension moves a grant's expiry past its
// horizon: its script then writes nothing and runs again after the index
// call, so that an index write that fails leaves the grant as it was
// (the presented token not consumed, the token at its old expiry),
// covered by its entries, rather than an entry that expires before its
// grant. RevokeUser and
// RevokeClient read the index in order of score, a page of about 256
// entries at a time, on the slot's master, and revoke each page's grants
// with one script each, sent in one pipeline per page (the grants found
// leave their other index too, as after RevokeGrant), each grant atomically
// but not all at once: a grant created concurrently with RevokeUser or
// RevokeClient may survive it.
//
// CreateClient makes two calls: it adds the ID to the client index
// (ZADD), then stores the client with SET NX, which fails if the ID is
// taken (an index entry left without a client by a failed SET is skipped
// by ListClients). UpdateClient is one Lua script on the client's key,
// which compares the revision kept in the client's JSON (a client stored
// without one reads as revision 1) and writes the client with the next
// one; ListClients reads the client index and fetches the clients in one
// pipeline.
package redis
