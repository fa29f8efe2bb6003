// Package storagetest is the conformance suite every storage backend runs:
// one call to [Run] checks a backend against the contracts of
// [storage.ClientStore] and [storage.TokenStore] as documented in package
// storage, in the manner of testing/fstest.TestFS and
// golang.org/x/net/nettest.TestConn.
//
// Each contract clause is a named subtest, in a subtest per group
// (Clients/CreateDuplicateIsAlreadyExists, Exchange/ConcurrentOneWinner,
// ...), that gets a fresh, empty backend
// from the [Factory] and a clock of its own, which the suite advances to
// test expiry without sleeping. Tokens are minted with the provider's real
// token format, so the references a backend sees are the ones it will see
// in production.
//
// The suite checks expiry, the round trip of every field, atomic
// single-use exchange (exactly one winner among concurrent exchanges of
// one token), reuse detection (RFC 9700 §4.14.2), binding a grant on exchange
// ([storage.Exchange.Bind]), revocation by grant,
// user and client, that Exchange.Check runs only for a live token (a
// refusing Check hides no reuse), that a store keeps no reference to what
// it was given and returns copies, client revisions (a stale UpdateClient is
// [storage.ErrConflict]; of concurrent updates of one revision exactly one
// wins), that a client whose SecretHash [storage.Client.Validate] refuses
// is never stored ([storage.ErrInvalidSecretHash]) while every readable
// form is, that no raw token is stored (when the backend offers
// [Backend.Dump]) and, for a backend implementing [storage.Cleaner], that
// expired records are removed. It does not check how a backend behaves
// with a cancelled context: an embedded store may ignore it.
//
// A backend author writes one test:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T, now func() time.Time) storagetest.Backend {
//			s := mystore.New(conn, mystore.Config{Now: now})
//			t.Cleanup(func() { s.DropEverything() })
//			return storagetest.Backend{Clients: s, Tokens: s, Dump: s.Dump}
//		})
//	}
//
// The factory must return an empty store whose clock is now, the function
// it was given; a network backend typically gives each subtest its own key
// prefix or schema, or truncates its tables, and registers the cleanup with
// t.Cleanup. Subtests do not run in parallel with each other, but several
// of them use many goroutines at once, so run the suite with -race.
package storagetest
