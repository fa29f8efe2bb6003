package memory

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
)

var _ storage.Limiter = (*Limiter)(nil)

// DefaultLimiterMaxKeys is the number of keys a [Limiter] remembers at most
// when [LimiterConfig.MaxKeys] is zero. A key costs about 40 bytes plus
// its length (measured on amd64 over a million keys), so the default
// bounds a Limiter to about 40 MB plus the keys themselves, 90 MB for keys
// of 50 bytes.
const DefaultLimiterMaxKeys = 1 << 20

const (
	// limiterShards is the number of independently locked parts of a
	// Limiter (fewer when MaxKeys is under limiterShards*limiterSample).
	limiterShards = 64
	// limiterSweep is how many keys each call but Refund examines,
	// besides its own, to drop those whose bucket is full again.
	limiterSweep = 2
	// limiterSample is how many keys a shard that is full examines to
	// choose the one to evict.
	limiterSample = 8
	// limiterShrinkFloor is the map size under which a shard never
	// rebuilds its map to give memory back.
	limiterShrinkFloor = 256
)

// LimiterConfig configures a [Limiter]. The zero value is ready to use.
type LimiterConfig struct {
	// Now is the clock. Nil means [time.Now].
	Now func() time.Time

	// MaxKeys is the most keys the Limiter remembers at once; zero or
	// negative means [DefaultLimiterMaxKeys]. See [Limiter] for what
	// happens when it is reached.
	MaxKeys int
}

// Limiter is the in-process [storage.Limiter]: a token bucket per key,
// for a single instance of the app. Several
// instances each keep their own counts; use the Redis limiter to share
// them. It is safe for concurrent use: keys are spread over independently
// locked shards, so there is no global lock.
//
// A key costs memory only while it carries information. A key whose bucket
// has filled up again is indistinguishable from a key never seen, so it is
// dropped: when it is next used, and lazily by every call but Refund
// (which follows a Reserve that did), which examines a few other keys of
// its shard (bounded work per call). Throttled never adds a key.
//
// Memory is bounded by MaxKeys even under a flood of distinct keys. When a
// shard is full, a new key evicts an old one rather than growing the map:
// of a few keys sampled at random, the one whose bucket is fullest, that
// is the one that has failed least recently or least often. So a flood of
// single failures evicts mostly its own keys and hardly ever a key that is
// being throttled; only a flood that throttles more than MaxKeys keys at
// once can make the Limiter forget throttled keys. The alternative,
// refusing new keys when full, would let such a flood lock every other
// user out, which we judge worse.
//
// A rate whose Burst*Every exceeds 2^61 ns (about 73 years) is lowered to
// that: such a lock-out is as good as forever. A clock that steps back
// (a Now that carries no monotonic reading) counts as one that stood
// still.
type Limiter struct {
	now func() time.Time // nil: the monotonic clock, read by time.Since

	// epoch is the time bucket times count from (see bucket): kept as
	// durations since it, they follow the monotonic clock.
	epoch    time.Time
	seed     maphash.Seed
	shards   []limiterShard
	perShard int
}

// limiterShard is one lock's worth of buckets, by key.
type limiterShard struct {
	mu      sync.Mutex
	buckets map[string]bucket
	// last is the latest clock reading of a call on the shard, in
	// nanoseconds since the epoch (never below 0).
	last int64
	// peak is the largest len(buckets) a sweep has seen since the map
	// was last rebuilt.
	peak int
	_    [64]byte // keeps neighbouring shards' locks off one cache line
}

// NewLimiter returns an empty Limiter.
func NewLimiter(cfg LimiterConfig) *Limiter {
	maxKeys := cfg.MaxKeys
	if maxKeys <= 0 {
		maxKeys = DefaultLimiterMaxKeys
	}
	// A shard evicts among its own keys only: it needs room for a
	// sample's worth, or a single failure of a key that lands in it
	// evicts a throttled one (with a key per shard, always). So a small
	// MaxKeys gets fewer shards.
	n := min(limiterShards, max(1, maxKeys/limiterSample))
	l := &Limiter{
		now:      cfg.Now,
		seed:     maphash.MakeSeed(),
		shards:   make([]limiterShard, n),
		perShard: maxKeys / n,
	}
	if l.now == nil {
		// Since the epoch, time.Since reads only the monotonic clock,
		// about half a time.Now.
		l.epoch = time.Now()
	} else {
		l.epoch = l.now()
	}
	for i := range l.shards {
		l.shards[i].buckets = make(map[string]bucket)
	}
	return l
}

// Throttled implements [storage.Limiter]. It never fails for a valid r.
func (l *Limiter) Throttled(_ context.Context, key string, r storage.Rate) (time.Duration, error) {
	sh, now, err := l.lock(key, r)
	if err != nil {
		return 0, err
	}
	defer sh.mu.Unlock()
	sh.sweep(now)
	b, ok := sh.buckets[key]
	if !ok {
		return 0, nil
	}
	if b.full(now) {
		delete(sh.buckets, key)
		return 0, nil
	}
	return b.wait(now, r), nil
}

// Fail implements [storage.Limiter]. It never fails for a valid r. A
// failure that would make the wait exceed r.Burst*r.Every is not counted:
// the wait stays at that cap.
func (l *Limiter) Fail(_ context.Context, key string, r storage.Rate) (time.Duration, error) {
	sh, now, err := l.lock(key, r)
	if err != nil {
		return 0, err
	}
	defer sh.mu.Unlock()
	b := l.bucket(sh, key, now)
	// After counting, the wait is debt+Every-(Burst-1)*Every: count only
	// while that stays within Burst*Every.
	every, burst := bounds(r)
	if next := b.spend(now, r); next.debt(now) <= (2*burst-1)*every {
		b = next
		sh.buckets[key] = b
	}
	return b.wait(now, r), nil
}

// lock checks r, reads the clock and locks key's shard, which the caller
// unlocks.
func (l *Limiter) lock(key string, r storage.Rate) (*limiterShard, int64, error) {
	if err := checkRate(r); err != nil {
		return nil, 0, err
	}
	var now int64
	if l.now == nil {
		now = int64(time.Since(l.epoch))
	} else {
		now = int64(l.now().Sub(l.epoch))
	}
	sh := l.shardOf(key)
	sh.mu.Lock()
	// A clock that steps back (a Now without a monotonic reading) counts
	// as one that stood still: waits must not grow with the step.
	now = max(now, sh.last)
	sh.last = now
	return sh, now, nil
}

// bucket returns key's bucket in sh, which the caller has locked, after
// sweeping sh of full buckets; a key without one gets a full bucket,
// which is stored when it is spent from.
func (l *Limiter) bucket(sh *limiterShard, key string, now int64) bucket {
	sh.sweep(now)
	b, ok := sh.buckets[key]
	if !ok {
		if len(sh.buckets) >= l.perShard {
			sh.evict(now)
		}
		return bucket{fullAt: now}
	}
	return b
}

// Reserve implements [storage.Limiter]: under the key's shard lock, it
// counts one failure when key may try now, and otherwise returns the wait
// and counts nothing. It never fails for a valid r.
func (l *Limiter) Reserve(_ context.Context, key string, r storage.Rate) (time.Duration, error) {
	sh, now, err := l.lock(key, r)
	if err != nil {
		return 0, err
	}
	defer sh.mu.Unlock()
	b := l.bucket(sh, key, now)
	if wait := b.wait(now, r); wait > 0 {
		return wait, nil
	}
	sh.buckets[key] = b.spend(now, r)
	return 0, nil
}

// Refund implements [storage.Limiter]: it gives key's bucket back one
// token, never more than a full bucket, which it then forgets. It never
// fails for a valid r.
func (l *Limiter) Refund(_ context.Context, key string, r storage.Rate) error {
	sh, now, err := l.lock(key, r)
	if err != nil {
		return err
	}
	defer sh.mu.Unlock()
	b, ok := sh.buckets[key]
	if !ok {
		return nil // full already, or never failed
	}
	every, _ := bounds(r)
	b.fullAt -= every
	if b.full(now) {
		delete(sh.buckets, key)
		return nil
	}
	sh.buckets[key] = b
	return nil
}

// len returns the number of keys remembered.
func (l *Limiter) len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.buckets)
		sh.mu.Unlock()
	}
	return n
}

func (l *Limiter) shardOf(key string) *limiterShard {
	return &l.shards[maphash.String(l.seed, key)%uint64(len(l.shards))]
}

// sweep drops up to limiterSweep keys of the shard whose bucket is full.
// Map iteration starts at a random place, so repeated sweeps visit the
// whole shard over time.
//
// Go maps keep their buckets when entries go, so a sweep also rebuilds
// the map once it holds under a quarter of its peak: the memory of a
// flood of keys is given back once they have refilled.
func (sh *limiterShard) sweep(now int64) {
	sh.peak = max(sh.peak, len(sh.buckets))
	n := 0
	for k, b := range sh.buckets {
		if b.full(now) {
			delete(sh.buckets, k)
		}
		if n++; n == limiterSweep {
			break
		}
	}
	if sh.peak > limiterShrinkFloor && len(sh.buckets) < sh.peak/4 {
		m := make(map[string]bucket, len(sh.buckets))
		for k, b := range sh.buckets {
			m[k] = b
		}
		sh.buckets = m
		sh.peak = len(m)
	}
}

// evict drops one key of the shard: of a random sample, the bucket that
// is full again soonest (a full one at once).
func (sh *limiterShard) evict(now int64) {
	var (
		victim string
		first  = int64(math.MaxInt64)
		n      = 0
	)
	for k, b := range sh.buckets {
		if b.full(now) {
			victim = k
			break
		}
		if b.fullAt < first {
			victim, first = k, b.fullAt
		}
		if n++; n == limiterSample {
			break
		}
	}
	delete(sh.buckets, victim)
}

// bucket is one key's token bucket, kept as the time it is full again,
// in nanoseconds since the Limiter's epoch: a bucket of Burst tokens that
// gains one every Every holds Burst-debt/Every tokens, its debt being how
// long it still needs to fill up. Keeping no token count makes a bucket
// one word that holds no pointer, and lets a sweep or an eviction judge
// every key without knowing its rate.
type bucket struct {
	fullAt int64
}

// debt is how long b still needs to fill up at now.
func (b bucket) debt(now int64) int64 {
	return max(0, b.fullAt-now)
}

// full reports whether b is full at now, so that it carries no
// information.
func (b bucket) full(now int64) bool {
	return b.fullAt <= now
}

// spend returns b less one token at now (its debt grows by one Every).
func (b bucket) spend(now int64, r storage.Rate) bucket {
	every, _ := bounds(r)
	return bucket{fullAt: now + b.debt(now) + every}
}

// wait returns how long b must wait at now for one whole token, the next
// failure it may afford: the debt beyond (Burst-1)*Every, capped at
// Burst*Every. Once it has passed, the key is free.
func (b bucket) wait(now int64, r storage.Rate) time.Duration {
	every, burst := bounds(r)
	w := b.debt(now) - (burst-1)*every
	if w <= 0 {
		return 0
	}
	return time.Duration(min(w, burst*every))
}

// maxSpan bounds Burst*Every, about 73 years: a longer lock-out is as
// good as forever, and the bound keeps every sum and product of the
// bucket arithmetic within an int64 (a debt never exceeds
// (2*Burst-1)*Every, under 2*maxSpan).
const maxSpan = int64(1) << 61

// bounds returns r's Every in nanoseconds and its Burst, lowered so that
// their product is at most maxSpan.
func bounds(r storage.Rate) (every, burst int64) {
	burst = min(int64(r.Burst), maxSpan)
	every = min(int64(r.Every), maxSpan/burst)
	return every, burst
}

// checkRate refuses a Rate that cannot throttle: counting failures under
// it would be meaningless, and ignoring it would silently disable
// throttling.
func checkRate(r storage.Rate) error {
	if r.Burst < 1 || r.Every <= 0 {
		return fmt.Errorf("memory: limiter: invalid rate (Burst %d, Every %s): both must be positive", r.Burst, r.Every)
	}
	return nil
}
