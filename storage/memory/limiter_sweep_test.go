package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// TestLimiterEveryCallSweepsAFewKeys: each of Throttled, Fail and Reserve
// drops exactly limiterSweep refilled keys of its shard besides its own,
// no more (the work per call is bounded) and no fewer (idle keys go
// lazily even when only Fail or Reserve is called).
func TestLimiterEveryCallSweepsAFewKeys(t *testing.T) {
	const idle = 10
	for _, call := range []string{"Throttled", "Fail", "Reserve"} {
		t.Run(call, func(t *testing.T) {
			clk := newFakeNow()
			// Under limiterShards*limiterSample keys, one shard.
			l := NewLimiter(LimiterConfig{Now: clk.Now, MaxKeys: 15})
			require.Len(t, l.shards, 1)
			ctx := context.Background()
			r := storage.Rate{Burst: 2, Every: time.Second}
			for i := range idle {
				_, err := l.Fail(ctx, fmt.Sprint("idle-", i), r)
				require.NoError(t, err)
			}
			clk.Advance(time.Minute) // every idle key has refilled
			var err error
			added := 0
			switch call {
			case "Throttled":
				_, err = l.Throttled(ctx, "new", r)
			case "Fail":
				_, err = l.Fail(ctx, "new", r)
				added = 1
			case "Reserve":
				_, err = l.Reserve(ctx, "new", r)
				added = 1
			}
			require.NoError(t, err)
			assert.Equal(t, idle-limiterSweep+added, l.len(), "one %s drops %d refilled keys", call, limiterSweep)
		})
	}
}

// TestLimiterShrinkKeepsCountingKeys: once most keys of a flood have
// refilled and been swept, every shard's map has been rebuilt to its size
// (none holds under a quarter of its peak), and the rebuild kept the keys
// that still count.
func TestLimiterShrinkKeepsCountingKeys(t *testing.T) {
	clk := newFakeNow()
	l := NewLimiter(LimiterConfig{Now: clk.Now})
	ctx := context.Background()
	short := storage.Rate{Burst: 1, Every: time.Second}
	long := storage.Rate{Burst: 1, Every: time.Hour}
	// About 800 keys a shard, well over limiterShrinkFloor, and twice it
	// ten standard deviations below (at 600, one run in a hundred had a
	// shard under twice it and failed); one in ten still counts after a
	// minute.
	const n = 800 * limiterShards
	var kept []string
	for i := range n {
		key, r := fmt.Sprint("short-", i), short
		if i%10 == 0 {
			key, r = fmt.Sprint("long-", i), long
			kept = append(kept, key)
		}
		_, err := l.Fail(ctx, key, r)
		require.NoError(t, err)
	}
	for i := range l.shards {
		require.Greater(t, len(l.shards[i].buckets), 2*limiterShrinkFloor, "shard %d is too small for the test", i)
	}
	clk.Advance(time.Minute)
	for i := 0; l.len() > len(kept) && i < 20*n; i++ {
		_, err := l.Throttled(ctx, fmt.Sprint("probe-", i), short)
		require.NoError(t, err)
	}
	require.Equal(t, len(kept), l.len(), "the refilled keys are swept")
	for i := range l.shards {
		sh := &l.shards[i]
		assert.True(t, sh.peak <= limiterShrinkFloor || len(sh.buckets) >= sh.peak/4,
			"shard %d holds %d keys in a map sized for %d", i, len(sh.buckets), sh.peak)
	}
	for _, key := range kept {
		w, err := l.Throttled(ctx, key, long)
		require.NoError(t, err)
		require.Positive(t, w, "key %s, still counting, survived the rebuild", key)
	}
}

// TestLimiterRefundForgetsAFullKey: a refund that fills a key's bucket
// again drops the key, which then carries no information.
func TestLimiterRefundForgetsAFullKey(t *testing.T) {
	ctx := context.Background()
	l := NewLimiter(LimiterConfig{Now: newFakeNow().Now})
	r := storage.Rate{Burst: 2, Every: time.Minute}
	_, err := l.Reserve(ctx, "k", r)
	require.NoError(t, err)
	_, err = l.Reserve(ctx, "k", r)
	require.NoError(t, err)
	require.NoError(t, l.Refund(ctx, "k", r))
	assert.Equal(t, 1, l.len(), "one failure is still counted")
	require.NoError(t, l.Refund(ctx, "k", r))
	assert.Zero(t, l.len(), "a refunded key whose bucket is full again is forgotten")
}

// TestLimiterSweepExaminesAFewKeys: a sweep examines limiterSweep keys,
// refilled or not; it does not scan on until it has found refilled ones,
// which in a shard of keys that still count would be a scan of the whole
// shard at every call.
func TestLimiterSweepExaminesAFewKeys(t *testing.T) {
	ctx := context.Background()
	counting := storage.Rate{Burst: 1, Every: time.Hour}
	idle := storage.Rate{Burst: 1, Every: time.Second}
	// One call drops both refilled keys of twelve only when it happens to
	// examine both: once in 66 calls. In none of 50 is all but
	// impossible; in all of them is what a scan does.
	missed := 0
	for range 50 {
		clk := newFakeNow()
		l := NewLimiter(LimiterConfig{Now: clk.Now, MaxKeys: 15})
		require.Len(t, l.shards, 1)
		for i := range 10 {
			_, err := l.Fail(ctx, fmt.Sprint("counting-", i), counting)
			require.NoError(t, err)
		}
		for i := range 2 {
			_, err := l.Fail(ctx, fmt.Sprint("idle-", i), idle)
			require.NoError(t, err)
		}
		clk.Advance(time.Minute)
		_, err := l.Throttled(ctx, "probe", idle)
		require.NoError(t, err)
		require.GreaterOrEqual(t, l.len(), 10, "a sweep drops only refilled keys")
		if l.len() > 10 {
			missed++
		}
	}
	assert.Positive(t, missed, "every call found both refilled keys among twelve: the sweep scans the shard")
}

// TestLimiterEvictionSamplesAFewKeys: a full shard evicts the soonest
// full of a sample of limiterSample keys, not of the whole shard, so that
// a flood of new keys costs bounded work per key. Of fifteen keys, the
// one that refills soonest is in a sample of eight about half the time:
// never surviving in 50 evictions is what a scan does.
func TestLimiterEvictionSamplesAFewKeys(t *testing.T) {
	ctx := context.Background()
	kept := 0
	for range 50 {
		clk := newFakeNow()
		l := NewLimiter(LimiterConfig{Now: clk.Now, MaxKeys: 15})
		require.Len(t, l.shards, 1)
		require.Equal(t, 15, l.perShard)
		_, err := l.Fail(ctx, "soonest", storage.Rate{Burst: 1, Every: time.Minute})
		require.NoError(t, err)
		for i := range 14 {
			_, err := l.Fail(ctx, fmt.Sprint("later-", i), storage.Rate{Burst: 1, Every: time.Hour})
			require.NoError(t, err)
		}
		require.Equal(t, 15, l.len())
		_, err = l.Fail(ctx, "new", storage.Rate{Burst: 1, Every: time.Hour})
		require.NoError(t, err)
		require.Equal(t, 15, l.len(), "one key was evicted")
		if _, ok := l.shards[0].buckets["soonest"]; ok {
			kept++
		}
	}
	assert.Positive(t, kept, "every eviction found the soonest key among fifteen: eviction scans the shard")
}
