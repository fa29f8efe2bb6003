package provider

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// roundLimiter is a memory limiter that holds each reservation of key
// spent until every other attempt still going has been refused by the
// per-IP key and had time to wait: the worst order for attempts passing
// a given-back slot around.
type roundLimiter struct {
	*memory.Limiter
	reserves  atomic.Int32
	mu        sync.Mutex
	going     int // attempts not yet answered
	ipRefused int // per-IP refusals since the last reservation of spent
}

func (l *roundLimiter) Reserve(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	l.reserves.Add(1)
	if key == "spent" {
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			l.mu.Lock()
			all := l.ipRefused >= l.going-1
			l.mu.Unlock()
			if all {
				break
			}
		}
		time.Sleep(2 * time.Millisecond) // let them wait
		l.mu.Lock()
		l.ipRefused = 0
		l.mu.Unlock()
	}
	d, err := l.Limiter.Reserve(ctx, key, r)
	if key == "ip" && d > 0 {
		l.mu.Lock()
		l.ipRefused++
		l.mu.Unlock()
	}
	return d, err
}

// Attempts under a spent per-user key, refused by the per-IP key while a
// login holds its one slot, are woken when that login is refunded: each
// that takes the slot is refused by its user key and gives the slot back,
// which wakes the others again. They must not pass the slot around for
// ever (a reservation per waiter per round, each round freeing nobody):
// each asks the limiter a bounded number of times.
func TestWaitersUnderASpentKeyDoNotPassASlotAround(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(map[bool]string{false: "key by key", true: "BatchLimiter"}[batch], func(t *testing.T) {
			one := storage.Rate{Burst: 1, Every: time.Hour}
			lim := &roundLimiter{Limiter: memory.NewLimiter(memory.LimiterConfig{})}
			th := &throttler{limiter: lim, pending: newPending(), maxWait: time.Minute}
			if batch {
				th.batch = seqBatchLimiter{lim}
			}
			login := [2]storage.LimitKey{{Key: "ip", Rate: one}, {Key: "user", Rate: one}}
			guess := [2]storage.LimitKey{login[0], {Key: "spent", Rate: one}}
			_, err := lim.Limiter.Reserve(context.Background(), "spent", one)
			require.NoError(t, err)
			first, e := th.begin(context.Background(), login)
			require.Nil(t, e)
			const n = 24
			lim.going = n
			outs := make(chan *Error, n)
			for range n {
				go func() {
					_, e := th.begin(context.Background(), guess)
					lim.mu.Lock()
					lim.going--
					lim.mu.Unlock()
					outs <- e
				}()
			}
			waitingOn(t, th.pending.shard("ip"), "ip")
			time.Sleep(50 * time.Millisecond) // let the others wait too
			lim.reserves.Store(0)
			first.end() // a success: refunded
			for range n {
				e := awaitWaiter(t, outs, "a waiter still waits")
				require.NotNil(t, e)
				assert.Equal(t, CodeSlowDown, e.Code)
			}
			// Passed around, the slot costs about n*n/2 reservations.
			assert.LessOrEqual(t, int(lim.reserves.Load()), n*2*(maxImmediateRetries+2))
		})
	}
}
