package memory

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/oauth2provider/oauth2provider/storage"
)

var _ storage.Limiter = (*Limiter)(nil)

// DefaultLimiterMaxKeys is the number of keys a [Limiter] remembers at most
// when [LimiterConfig.MaxKeys] is zero. A key costs about 100 bytes plus
// its length (measured on amd64), so the default bounds a Limiter to about
// 100 MB plus the keys themselves, 150 MB for keys of 50 bytes.
const DefaultLimiterMaxKeys = 1 << 20

const (
	// limiterShards is the number of independently locked parts of a
	// Limiter (fewer when MaxKeys is smaller).
	limiterShards = 64
	// limiterSweep is how many keys each call examines, besides its own,
	// to drop those whose bucket is full again.
	limiterSweep = 2
	// limiterSample is how many keys a shard that is full examines to
	// choose the one to evict.
	limiterSample = 8
	// tokenEpsilon absorbs float rounding in token counts (a billionth of
	// a failure).
	tokenEpsilon = 1e-9
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

// Limiter is the in-process [storage.Limiter]: a token bucket per key
// (golang.org/x/time/rate), for a single instance of the app. Several
// instances each keep their own counts; use the Redis limiter to share
// them. It is safe for concurrent use: keys are spread over independently
// locked shards, so there is no global lock.
//
// A key costs memory only while it carries information. A key whose bucket
// has filled up again is indistinguishable from a key never seen, so it is
// dropped: when it is next used, and lazily by every call, which examines
// a few other keys of its shard (bounded work per call). Throttled never
// adds a key.
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
type Limiter struct {
	now      func() time.Time
	seed     maphash.Seed
	shards   []limiterShard
	perShard int
}

// limiterShard is one lock's worth of buckets, by key.
type limiterShard struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	_       [64]byte // keeps neighbouring shards' locks off one cache line
}

// NewLimiter returns an empty Limiter.
func NewLimiter(cfg LimiterConfig) *Limiter {
	maxKeys := cfg.MaxKeys
	if maxKeys <= 0 {
		maxKeys = DefaultLimiterMaxKeys
	}
	n := min(limiterShards, maxKeys)
	l := &Limiter{
		now:      cfg.Now,
		seed:     maphash.MakeSeed(),
		shards:   make([]limiterShard, n),
		perShard: maxKeys / n,
	}
	if l.now == nil {
		l.now = time.Now
	}
	for i := range l.shards {
		l.shards[i].buckets = make(map[string]*rate.Limiter)
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
	b := sh.buckets[key]
	if b == nil {
		return 0, nil
	}
	setRate(b, now, r)
	tokens := b.TokensAt(now)
	if isFull(b, tokens) {
		delete(sh.buckets, key)
		return 0, nil
	}
	return waitFor(tokens, r), nil
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
	b := l.bucket(sh, key, now, r)
	// After counting, the wait is (2-tokens)*Every: count only while
	// that stays within Burst*Every.
	if b.TokensAt(now) >= float64(2-r.Burst)-tokenEpsilon {
		b.ReserveN(now, 1)
	}
	return waitFor(b.TokensAt(now), r), nil
}

// lock checks r, reads the clock and locks key's shard, which the caller
// unlocks.
func (l *Limiter) lock(key string, r storage.Rate) (*limiterShard, time.Time, error) {
	if err := checkRate(r); err != nil {
		return nil, time.Time{}, err
	}
	now := l.now()
	sh := l.shardOf(key)
	sh.mu.Lock()
	return sh, now, nil
}

// bucket returns key's bucket in sh, which the caller has locked, made
// for r if key has none, after sweeping sh of full buckets.
func (l *Limiter) bucket(sh *limiterShard, key string, now time.Time, r storage.Rate) *rate.Limiter {
	sh.sweep(now)
	b := sh.buckets[key]
	if b == nil {
		if len(sh.buckets) >= l.perShard {
			sh.evict(now)
		}
		b = rate.NewLimiter(rate.Every(r.Every), r.Burst)
		sh.buckets[key] = b
	} else {
		setRate(b, now, r)
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
	b := l.bucket(sh, key, now, r)
	if wait := waitFor(b.TokensAt(now), r); wait > 0 {
		return wait, nil
	}
	b.ReserveN(now, 1)
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
	b := sh.buckets[key]
	if b == nil {
		return nil // full already, or never failed
	}
	setRate(b, now, r)
	if isFull(b, b.TokensAt(now)+1) {
		delete(sh.buckets, key)
		return nil
	}
	// A reservation of -1 token returns one: tokens stay below Burst here.
	b.ReserveN(now, -1)
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
func (sh *limiterShard) sweep(now time.Time) {
	n := 0
	for k, b := range sh.buckets {
		if isFull(b, b.TokensAt(now)) {
			delete(sh.buckets, k)
		}
		if n++; n == limiterSweep {
			return
		}
	}
}

// evict drops one key of the shard: the fullest bucket of a random sample.
func (sh *limiterShard) evict(now time.Time) {
	var (
		victim string
		most   = math.Inf(-1)
		n      = 0
	)
	for k, b := range sh.buckets {
		tokens := b.TokensAt(now)
		if isFull(b, tokens) {
			victim = k
			break
		}
		if tokens > most {
			victim, most = k, tokens
		}
		if n++; n == limiterSample {
			break
		}
	}
	delete(sh.buckets, victim)
}

// isFull reports whether a bucket holding tokens is full, so that it
// carries no information.
func isFull(b *rate.Limiter, tokens float64) bool {
	return tokens >= float64(b.Burst())-tokenEpsilon
}

// setRate makes b follow r, which a caller may change between calls.
func setRate(b *rate.Limiter, now time.Time, r storage.Rate) {
	if limit := rate.Every(r.Every); b.Limit() != limit {
		b.SetLimitAt(now, limit)
	}
	if b.Burst() != r.Burst {
		b.SetBurstAt(now, r.Burst)
	}
}

// waitFor returns how long a bucket holding tokens must wait for one whole
// token, the next failure it may afford, capped at Burst*Every. The
// duration is rounded down, so that once it has passed the key is free.
func waitFor(tokens float64, r storage.Rate) time.Duration {
	need := 1 - tokens
	if need <= tokenEpsilon {
		return 0
	}
	d := need * float64(r.Every)
	if limit := float64(r.Burst) * float64(r.Every); d > limit {
		d = limit
	}
	if d >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(d)
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
