package provider

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// panickingLimiter is a memory limiter whose Reserve or Refund panics
// while panics is set.
type panickingLimiter struct {
	*memory.Limiter
	reserve, refund bool
}

func (l *panickingLimiter) Reserve(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	if l.reserve {
		panic("limiter bug")
	}
	return l.Limiter.Reserve(ctx, key, r)
}

func (l *panickingLimiter) Refund(ctx context.Context, key string, r storage.Rate) error {
	if l.refund {
		panic("limiter bug")
	}
	return l.Limiter.Refund(ctx, key, r)
}

// A Limiter that panics (net/http recovers the request's panic and the
// server goes on) leaves no attempt in flight under the keys: an attempt
// refused under them later answers 429 at once, not after waiting
// maxWait for one that will never end, and the in-flight counts hold
// nothing for ever.
func TestLimiterPanicLeavesNoAttemptInFlight(t *testing.T) {
	for _, where := range []string{"Reserve", "Refund"} {
		t.Run(where, func(t *testing.T) {
			lim := &panickingLimiter{Limiter: memory.NewLimiter(memory.LimiterConfig{})}
			th, keys := newTestThrottler(time.Hour)
			th.limiter = lim
			lim.reserve, lim.refund = where == "Reserve", where == "Refund"
			require.Panics(t, func() {
				a, e := th.begin(context.Background(), keys)
				require.Nil(t, e)
				a.end() // a success: refunded
			})
			lim.reserve, lim.refund = false, false
			for _, k := range keys {
				sh := th.pending.shard(k.Key)
				sh.mu.Lock()
				_, inFlight := sh.m[k.Key]
				sh.mu.Unlock()
				assert.False(t, inFlight, "%s is still in flight", k.Key)
			}
			_, err := lim.Limiter.Reserve(context.Background(), keys[0].Key, keys[0].Rate) // spend the per-IP key
			require.NoError(t, err)
			e := awaitWaiter(t, beginAsync(th, keys), "the attempt waits for one that will never end")
			require.NotNil(t, e)
			assert.Equal(t, CodeSlowDown, e.Code)
		})
	}
}
