package memory

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/testclock"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/limitertest"
)

func TestLimiterConformance(t *testing.T) {
	limitertest.Run(t, func(_ *testing.T, now func() time.Time) storage.Limiter {
		return NewLimiter(LimiterConfig{Now: now})
	}, limitertest.Options{})
}

// newFakeNow returns a clock the test advances.
func newFakeNow() *testclock.Clock { return testclock.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) }

func TestLimiterMaxKeysBoundsMemoryUnderFlood(t *testing.T) {
	for _, maxKeys := range []int{1, 10, 64, 256, 1000} {
		for _, call := range []string{"Fail", "Reserve"} {
			t.Run(fmt.Sprint(call, "/", maxKeys), func(t *testing.T) {
				clk := newFakeNow()
				l := NewLimiter(LimiterConfig{Now: clk.Now, MaxKeys: maxKeys})
				count := l.Fail
				if call == "Reserve" {
					count = l.Reserve // the provider's way of counting
				}
				r := storage.Rate{Burst: 5, Every: time.Minute}
				for i := range 20 * maxKeys {
					_, err := count(context.Background(), fmt.Sprint("flood-", i), r)
					require.NoError(t, err)
					require.LessOrEqual(t, l.len(), maxKeys, "after %d distinct keys", i+1)
				}
				// 20 times MaxKeys distinct keys fill every shard: the
				// Limiter remembers about MaxKeys keys, not the few that
				// would fit if the keys were not spread over the shards.
				assert.GreaterOrEqual(t, l.len(), maxKeys*9/10, "the flood's keys are remembered up to the bound")
			})
		}
	}
}

func TestLimiterDefaultMaxKeys(t *testing.T) {
	l := NewLimiter(LimiterConfig{})
	assert.Equal(t, DefaultLimiterMaxKeys, l.perShard*len(l.shards))
	l = NewLimiter(LimiterConfig{MaxKeys: -3})
	assert.Equal(t, DefaultLimiterMaxKeys, l.perShard*len(l.shards))
}

func TestLimiterFloodOfSingleFailuresKeepsThrottledKey(t *testing.T) {
	clk := newFakeNow()
	l := NewLimiter(LimiterConfig{Now: clk.Now, MaxKeys: 256})
	ctx := context.Background()
	r := storage.Rate{Burst: 3, Every: time.Minute}
	for range r.Burst {
		_, err := l.Fail(ctx, "victim", r)
		require.NoError(t, err)
	}
	for i := range 10_000 {
		_, err := l.Fail(ctx, fmt.Sprint("flood-", i), r)
		require.NoError(t, err)
	}
	require.LessOrEqual(t, l.len(), 256)
	w, err := l.Throttled(ctx, "victim", r)
	require.NoError(t, err)
	assert.Equal(t, time.Minute, w, "eviction must prefer the flood's fuller buckets over a throttled key")
}

func TestLimiterDropsKeysWhoseBucketRefilled(t *testing.T) {
	clk := newFakeNow()
	l := NewLimiter(LimiterConfig{Now: clk.Now})
	ctx := context.Background()
	r := storage.Rate{Burst: 2, Every: time.Minute}

	// Throttled adds nothing.
	for i := range 100 {
		_, err := l.Throttled(ctx, fmt.Sprint("probe-", i), r)
		require.NoError(t, err)
	}
	require.Zero(t, l.len(), "Throttled must not remember keys")

	for i := range 1000 {
		_, err := l.Fail(ctx, fmt.Sprint("k-", i), r)
		require.NoError(t, err)
	}
	require.Equal(t, 1000, l.len(), "buckets that are not full are kept")

	// A key whose bucket is full again is dropped when it is next used.
	clk.Advance(time.Minute)
	w, err := l.Throttled(ctx, "k-0", r)
	require.NoError(t, err)
	require.Zero(t, w)
	_, ok := l.shardOf("k-0").buckets["k-0"]
	assert.False(t, ok, "a refilled key is dropped when it is next used")

	// The others are dropped lazily by calls on other keys: each call
	// sweeps a few keys of its shard, so about 1000/limiterSweep calls
	// spread over the shards drop them all (5000 leave a wide margin).
	for i := range 5000 {
		_, err := l.Throttled(ctx, fmt.Sprint("other-", i), r)
		require.NoError(t, err)
	}
	assert.Zero(t, l.len(), "idle keys whose bucket refilled must be dropped lazily")
}

func TestLimiterSweepKeepsKeysStillCounting(t *testing.T) {
	clk := newFakeNow()
	l := NewLimiter(LimiterConfig{Now: clk.Now})
	ctx := context.Background()
	r := storage.Rate{Burst: 2, Every: time.Minute}
	for i := range 100 {
		_, err := l.Fail(ctx, fmt.Sprint("k-", i), r)
		require.NoError(t, err)
	}
	clk.Advance(time.Minute - time.Second) // not quite refilled
	for i := range 5000 {
		_, err := l.Throttled(ctx, fmt.Sprint("other-", i), r)
		require.NoError(t, err)
	}
	assert.Equal(t, 100, l.len(), "a key whose bucket is not yet full carries information and must be kept")
}

func TestLimiterRateChangeOnKey(t *testing.T) {
	clk := newFakeNow()
	l := NewLimiter(LimiterConfig{Now: clk.Now})
	ctx := context.Background()
	w, err := l.Fail(ctx, "k", storage.Rate{Burst: 1, Every: time.Minute})
	require.NoError(t, err)
	require.Equal(t, time.Minute, w)
	// The same empty bucket, now refilling every 10s.
	w, err = l.Throttled(ctx, "k", storage.Rate{Burst: 1, Every: 10 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, w)
}

// TestLimiterHugeRatesStillThrottle checks rates whose Burst*Every does
// not fit the limiter's arithmetic: the key must be throttled after its
// burst, for decades, however many failures follow.
func TestLimiterHugeRatesStillThrottle(t *testing.T) {
	ctx := context.Background()
	for _, r := range []storage.Rate{
		{Burst: 3, Every: time.Duration(math.MaxInt64)},
		{Burst: 3, Every: 200 * 365 * 24 * time.Hour},
		{Burst: 2, Every: 200 * 365 * 24 * time.Hour},
		{Burst: math.MaxInt, Every: time.Duration(math.MaxInt64)},
	} {
		clk := newFakeNow()
		l := NewLimiter(LimiterConfig{Now: clk.Now})
		clk.Advance(time.Second)
		for range min(r.Burst, 3) - 1 {
			_, err := l.Fail(ctx, "k", r)
			require.NoError(t, err)
		}
		if r.Burst > 3 {
			w, err := l.Reserve(ctx, "k", r)
			require.NoError(t, err)
			assert.Zero(t, w, "%v: far within the burst", r)
			continue
		}
		for i := range 5 {
			w, err := l.Fail(ctx, "k", r)
			require.NoError(t, err)
			assert.Greater(t, w, 20*365*24*time.Hour, "%v: failure %d past the burst", r, i+1)
			w, err = l.Reserve(ctx, "k", r)
			require.NoError(t, err)
			assert.Greater(t, w, 20*365*24*time.Hour, "%v: Reserve after failure %d past the burst", r, i+1)
		}
	}
}

// TestLimiterClockSteppingBack checks that a clock stepping back counts as
// one that stood still: it neither lengthens a wait nor frees a key.
func TestLimiterClockSteppingBack(t *testing.T) {
	ctx := context.Background()
	clk := newFakeNow()
	l := NewLimiter(LimiterConfig{Now: clk.Now})
	lax := storage.Rate{Burst: 5, Every: time.Minute}
	_, err := l.Fail(ctx, "lax", lax)
	require.NoError(t, err)
	locked := storage.Rate{Burst: 1, Every: time.Duration(math.MaxInt64)}
	_, err = l.Fail(ctx, "locked", locked)
	require.NoError(t, err)

	clk.Advance(-2 * time.Hour) // before the limiter was made
	w, err := l.Throttled(ctx, "lax", lax)
	require.NoError(t, err)
	assert.Zero(t, w, "one failure of five leaves the key free")
	w, err = l.Reserve(ctx, "lax", lax)
	require.NoError(t, err)
	assert.Zero(t, w, "one failure of five leaves the key free")
	w, err = l.Reserve(ctx, "locked", locked)
	require.NoError(t, err)
	assert.Greater(t, w, 20*365*24*time.Hour, "a locked-out key stays locked out")
}

// Without a Now, the Limiter counts on the monotonic clock: a spent
// bucket waits about Every, and a refund gives the token back.
func TestLimiter_OnTheSystemClock(t *testing.T) {
	l := NewLimiter(LimiterConfig{})
	r := storage.Rate{Burst: 1, Every: time.Hour}
	ctx := t.Context()
	wait, err := l.Reserve(ctx, "k", r)
	require.NoError(t, err)
	require.Zero(t, wait)
	wait, err = l.Reserve(ctx, "k", r)
	require.NoError(t, err)
	assert.Greater(t, wait, 59*time.Minute)
	assert.LessOrEqual(t, wait, time.Hour)
	require.NoError(t, l.Refund(ctx, "k", r))
	wait, err = l.Reserve(ctx, "k", r)
	require.NoError(t, err)
	assert.Zero(t, wait, "refunded")
}

// TestLimiterBucketFoundFull: a bucket that filled up long ago but was not
// yet swept is a full one: it owes nothing, and spending from it counts
// one Every from now, not from when it filled.
func TestLimiterBucketFoundFull(t *testing.T) {
	r := storage.Rate{Burst: 2, Every: time.Minute}
	now := int64(time.Hour)
	b := bucket{fullAt: int64(time.Minute)}
	assert.Zero(t, b.debt(now))
	assert.Zero(t, b.wait(now, r))
	b = b.spend(now, r)
	assert.Equal(t, bucket{fullAt: now + int64(time.Minute)}, b, "the first failure of a full bucket")
	b = b.spend(now, r)
	assert.Equal(t, time.Minute, b.wait(now, r), "the failure that spends the burst")
}

// TestLimiterClockSteppingBackWithinItsLife is TestLimiterClockSteppingBack
// with a step that stays after the Limiter was made: the clock counts as
// standing still at the latest time a call on the shard read.
func TestLimiterClockSteppingBackWithinItsLife(t *testing.T) {
	ctx := context.Background()
	clk := newFakeNow()
	l := NewLimiter(LimiterConfig{Now: clk.Now})
	lax := storage.Rate{Burst: 5, Every: time.Minute}
	clk.Advance(time.Hour)
	_, err := l.Fail(ctx, "lax", lax)
	require.NoError(t, err)
	clk.Advance(-30 * time.Minute)
	w, err := l.Throttled(ctx, "lax", lax)
	require.NoError(t, err)
	assert.Zero(t, w, "one failure of five leaves the key free")
	w, err = l.Reserve(ctx, "lax", lax)
	require.NoError(t, err)
	assert.Zero(t, w, "one failure of five leaves the key free")
}

// TestLimiterSystemClockRate: on the monotonic clock, a wait shrinks at
// the rate real time passes.
func TestLimiterSystemClockRate(t *testing.T) {
	ctx := context.Background()
	l := NewLimiter(LimiterConfig{})
	r := storage.Rate{Burst: 1, Every: time.Hour}
	t0 := time.Now()
	w, err := l.Reserve(ctx, "k", r)
	require.NoError(t, err)
	require.Zero(t, w)
	t1 := time.Now()
	time.Sleep(100 * time.Millisecond)
	t2 := time.Now()
	w, err = l.Throttled(ctx, "k", r)
	require.NoError(t, err)
	t3 := time.Now()
	// Between the two calls passed at least t2-t1 and at most t3-t0.
	assert.GreaterOrEqual(t, w, r.Every-t3.Sub(t0))
	assert.LessOrEqual(t, w, r.Every-t2.Sub(t1))
}

// TestLimiterWaitsAreExact: under a clock the test sets, waits are exact
// to the nanosecond, whatever the fraction of a second the clock is at.
func TestLimiterWaitsAreExact(t *testing.T) {
	ctx := context.Background()
	clk := testclock.New(time.Date(2030, 1, 1, 0, 0, 0, 700_000_000, time.UTC))
	l := NewLimiter(LimiterConfig{Now: clk.Now})
	r := storage.Rate{Burst: 1, Every: time.Minute}
	clk.Advance(1234567 * time.Nanosecond)
	w, err := l.Fail(ctx, "k", r)
	require.NoError(t, err)
	assert.Equal(t, time.Minute, w)
	clk.Advance(1500*time.Millisecond + time.Nanosecond)
	w, err = l.Throttled(ctx, "k", r)
	require.NoError(t, err)
	assert.Equal(t, time.Minute-1500*time.Millisecond-time.Nanosecond, w)
	w, err = l.Reserve(ctx, "k", r)
	require.NoError(t, err)
	assert.Equal(t, time.Minute-1500*time.Millisecond-time.Nanosecond, w)
}

// A failure that would make the wait exceed Burst*Every is not counted,
// even when it exceeds it by a nanosecond: the bucket keeps its debt and
// the wait is what is left of it.
func TestLimiterFailCapIsExact(t *testing.T) {
	ctx := context.Background()
	clk := newFakeNow()
	l := NewLimiter(LimiterConfig{Now: clk.Now})
	r := storage.Rate{Burst: 1, Every: 10 * time.Second}
	wait, err := l.Fail(ctx, "k", r)
	require.NoError(t, err)
	require.Equal(t, 10*time.Second, wait)
	clk.Advance(10*time.Second - time.Nanosecond) // a debt of 1ns
	// Counting would make the debt 10s+1ns, the wait 1ns over the cap.
	wait, err = l.Fail(ctx, "k", r)
	require.NoError(t, err)
	assert.Equal(t, time.Nanosecond, wait, "the failure is not counted")
	clk.Advance(time.Nanosecond)
	wait, err = l.Throttled(ctx, "k", r)
	require.NoError(t, err)
	assert.Zero(t, wait, "the key is free once its 1ns has passed")
}
