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
	Burst int           // failures allowed at once
	Every time.Duration // how often one more failure becomes allowed
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

// LimitKey is one limiter key with the Rate it is judged under, an
// element of a [BatchLimiter] call.
type LimitKey struct {
	Key  string // the limiter key
	Rate Rate   // the rule it is judged under
}

// BatchLimiter is an optional capability of a [Limiter]: Reserve and
// Refund of several keys in one call, which a networked limiter makes in
// one round trip instead of one per key. The provider judges each attempt
// under two keys; it uses BatchLimiter when Config.Limiter implements it
// and falls back to Reserve and Refund of each key otherwise. An
// in-process limiter gains nothing by implementing it. A wrapper that
// embeds a Limiter and overrides Reserve or Refund must override these
// too, or the provider calls the embedded ones past the override.
type BatchLimiter interface {
	// ReserveAll is Reserve of every key, as one call: one round trip on
	// a networked limiter. When every key was reserved it returns
	// refused = -1. Otherwise refused is the index in keys of the key
	// that must wait longest and retryAfter is its wait (> 0): how long
	// the attempt must wait before every key lets it through, which the
	// provider sends as Retry-After. ReserveAll then leaves no failure
	// counted under any key: what it reserved under the others is
	// refunded before it returns. An error is an outage (or an
	// invalid Rate, or a cancelled ctx); failures may or may not have
	// been counted.
	ReserveAll(ctx context.Context, keys []LimitKey) (refused int, retryAfter time.Duration, err error)

	// RefundAll is Refund of every key, as one call: it takes back one
	// failure under each key, ones that ReserveAll (or Reserve) counted
	// for an attempt that then succeeded or could not be judged. An
	// error is an outage; the refunds may or may not have been made.
	RefundAll(ctx context.Context, keys []LimitKey) error
}
