package storage

import (
	"context"
	"time"
)

// Rate is a throttling rule for failed attempts: Burst failures are
// allowed at once, and one more becomes allowed every Every (a token
// bucket, or equivalently GCRA). After Burst failures in a row the key
// must wait Every; each further failure adds Every, up to Burst×Every.
// A Rate with Burst < 1 or Every ≤ 0 is an error.
type Rate struct {
	Burst int
	Every time.Duration
}

// Limiter counts failed attempts per key, for brute-force throttling (RFC
// 6749 §4.3.2). A backend that is shared by several provider instances
// (Redis) gives a limit shared by all of them. Implementations must be
// safe for concurrent use. Keys are opaque strings the provider makes;
// they contain no password.
type Limiter interface {
	// Throttled reports how long key must wait under r before its next
	// attempt may be judged: zero when it may try now. It counts nothing.
	Throttled(ctx context.Context, key string, r Rate) (retryAfter time.Duration, err error)

	// Fail counts one failed attempt under key and returns how long key
	// must now wait under r (what Throttled would report right after it):
	// zero when it may still try again at once. It counts after the
	// fact, even while key must wait (up to Burst×Every), where Reserve
	// counts in advance and never past the limit. The provider judges
	// its attempts with Reserve and Refund and does not call Fail; it is
	// for callers that learn of a failure only once it has happened,
	// such as an app throttling its own checks with the same Limiter.
	Fail(ctx context.Context, key string, r Rate) (retryAfter time.Duration, err error)

	// Reserve counts one failed attempt under key in advance, before the
	// attempt is judged, unless key must wait under r: then it counts
	// nothing and returns the wait (> 0). The check and the count are
	// one atomic step, so that concurrent attempts cannot all slip past
	// the limit; the provider judges attempts this way, without
	// serializing them, and refunds those that succeed.
	Reserve(ctx context.Context, key string, r Rate) (retryAfter time.Duration, err error)

	// Refund takes back one failed attempt under key, one that Reserve
	// counted for an attempt that then succeeded or could not be judged.
	// A key with no failure counted is left as it is.
	Refund(ctx context.Context, key string, r Rate) error
}
