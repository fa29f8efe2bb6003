// Package memory is the embedded, in-process store: a [storage.ClientStore]
// and [storage.TokenStore] that needs no service, for development, tests
// and single-instance deployments. Its contents are lost when the process
// exits, and it cannot be shared between instances of the app.
//
// Grants live in 64 shards keyed by grant ID, each with its own lock, and
// a grant keeps its tokens with it (every [storage.TokenRef] carries the
// grant ID), so issuing, looking up and exchanging tokens of different
// grants never wait on one another and an exchange is atomic under one
// shard lock. Clients are read without a lock; their updates, which
// compare revisions, take one. Each shard indexes its
// grants by user and by client, so revoking a user or a client touches
// only their grants.
//
// Nothing runs in the background: every write to a shard first reclaims a
// few of its expired grants, the earliest first, so memory follows the
// live tokens without a janitor and without a full scan. A consumed
// refresh token or code is kept, as a hash, until its own expiry, so that
// presenting it again is detected as reuse (RFC 9700 §4.14.2).
//
// Only SHA-256 hashes of tokens are kept. Values returned are copies, so
// a caller cannot change the store through them, except those of
// [Store.ViewClient] and [Store.LookupTokenInto]: as [storage.ClientViewer]
// and [storage.TokenInfoFiller] allow, they are the store's own client and
// lists (never changed once stored), which the caller must not modify.
// Methods ignore their context: nothing they do blocks but a short shard
// lock.
package memory
