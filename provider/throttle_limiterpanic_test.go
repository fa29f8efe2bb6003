package provider

import (
	"context"
	"sync/atomic"
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

// keyPanickingLimiter is a memory limiter whose Reserve panics for key
// bad and counts the reservations of the others.
type keyPanickingLimiter struct {
	*memory.Limiter
	bad      string
	reserves atomic.Int32
}

func (l *keyPanickingLimiter) Reserve(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	if key == l.bad {
		panic("limiter bug")
	}
	l.reserves.Add(1)
	return l.Limiter.Reserve(ctx, key, r)
}

// An attempt whose Limiter panicked in its reservation leaves its keys
// having given nothing back (what the limiter counted is not known):
// attempts waiting under them wait on for the one in flight, rather than
// reserve again.
func TestLimiterPanicWakesNoWaiter(t *testing.T) {
	one := storage.Rate{Burst: 1, Every: time.Hour}
	many := storage.Rate{Burst: 1000, Every: time.Hour}
	lim := &keyPanickingLimiter{Limiter: memory.NewLimiter(memory.LimiterConfig{}), bad: "bad ip"}
	th := &throttler{limiter: lim, pending: newPending(), maxWait: time.Minute}
	keys := [2]storage.LimitKey{{Key: "ip", Rate: many}, {Key: "user", Rate: one}}
	first, e := th.begin(context.Background(), keys)
	require.Nil(t, e)
	waiter := beginAsync(th, keys) // refused by the user key that first holds
	waitingOn(t, th.pending.shard("user"), "user")
	require.Equal(t, int32(4), lim.reserves.Load())

	require.Panics(t, func() {
		_, _ = th.begin(context.Background(), [2]storage.LimitKey{{Key: "bad ip", Rate: many}, keys[1]})
	})
	time.Sleep(20 * time.Millisecond) // a waiter woken would reserve again meanwhile
	assert.Equal(t, int32(4), lim.reserves.Load(), "the waiter was woken by the panic")

	first.end() // a success: refunded
	assert.Nil(t, awaitWaiter(t, waiter, "the waiter was not woken"))
}
