package provider

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// pausingLimiter is a memory limiter whose first Reserve of one key
// closes reached and waits until proceed is closed.
type pausingLimiter struct {
	*memory.Limiter
	key     string
	once    sync.Once
	reached chan struct{}
	proceed chan struct{}
}

func (l *pausingLimiter) Reserve(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	if key == l.key {
		l.once.Do(func() {
			close(l.reached)
			<-l.proceed
		})
	}
	return l.Limiter.Reserve(ctx, key, r)
}

// seqBatchLimiter makes a limiter a storage.BatchLimiter whose ReserveAll
// reserves key by key and takes back what it reserved when a key
// refuses, as the Redis limiter's does in one round trip.
type seqBatchLimiter struct{ storage.Limiter }

func (l seqBatchLimiter) ReserveAll(ctx context.Context, keys []storage.LimitKey) (int, time.Duration, error) {
	for i, k := range keys {
		if wait, err := l.Reserve(ctx, k.Key, k.Rate); err != nil || wait > 0 {
			for _, k := range keys[:i] {
				_ = l.Refund(ctx, k.Key, k.Rate)
			}
			return i, wait, err
		}
	}
	return -1, 0, nil
}

func (l seqBatchLimiter) RefundAll(ctx context.Context, keys []storage.LimitKey) error {
	for _, k := range keys {
		_ = l.Refund(ctx, k.Key, k.Rate)
	}
	return nil
}

// An attempt refused by its second key after reserving its first (whose
// reservation it takes back) must let one refused meanwhile by that first
// key, and waiting on it, try again: the slot it held for a moment is
// free. It answered 429: its leaving counted as no end, so the waiter
// took it for a refused attempt that freed nothing.
func TestRefusedAttemptsPartialReservationWakesWaiters(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(map[bool]string{false: "key by key", true: "BatchLimiter"}[batch], func(t *testing.T) {
			one := storage.Rate{Burst: 1, Every: time.Hour}
			lim := &pausingLimiter{Limiter: memory.NewLimiter(memory.LimiterConfig{}), key: "user a",
				reached: make(chan struct{}), proceed: make(chan struct{})}
			th := &throttler{limiter: lim, pending: newPending(), maxWait: time.Minute}
			if batch {
				th.batch = seqBatchLimiter{lim}
			}
			a := [2]storage.LimitKey{{Key: "ip", Rate: one}, {Key: "user a", Rate: one}}
			b := [2]storage.LimitKey{a[0], {Key: "user b", Rate: one}}
			_, err := lim.Limiter.Reserve(context.Background(), "user a", one) // user a's budget is spent
			require.NoError(t, err)

			first := beginAsync(th, a) // reserves the per-IP key, then pauses
			<-lim.reached
			waiter := beginAsync(th, b) // refused by the per-IP key that a holds
			waitingOn(t, th.pending.shard("ip"), "ip")
			close(lim.proceed) // a is refused by its user key and gives the per-IP slot back
			e := awaitWaiter(t, first, "a was not refused")
			require.NotNil(t, e)
			assert.Equal(t, CodeSlowDown, e.Code)
			assert.Nil(t, awaitWaiter(t, waiter, "the waiter was not woken"), "the per-IP slot is free")
		})
	}
}

// countingLimiter is a memory limiter that counts reservations.
type countingLimiter struct {
	*memory.Limiter
	reserves atomic.Int32
}

func (l *countingLimiter) Reserve(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	l.reserves.Add(1)
	return l.Limiter.Reserve(ctx, key, r)
}

// Attempts refused by a spent per-user key after reserving the per-IP
// key, which they give back, wait for the attempt in flight under the
// user key; when it fails they answer 429 after a few reservations each:
// giving back a slot of the per-IP key wakes those waiting under that
// key, not each other.
func TestGivingBackDoesNotWakeTheOtherKeysWaiters(t *testing.T) {
	one := storage.Rate{Burst: 1, Every: time.Hour}
	many := storage.Rate{Burst: 1000, Every: time.Hour}
	lim := &countingLimiter{Limiter: memory.NewLimiter(memory.LimiterConfig{})}
	th := &throttler{limiter: lim, pending: newPending(), maxWait: time.Minute}
	keys := [2]storage.LimitKey{{Key: "ip", Rate: many}, {Key: "user", Rate: one}}
	first, e := th.begin(context.Background(), keys)
	require.Nil(t, e)
	const n = 8
	outs := make([]<-chan *Error, n)
	for i := range outs {
		outs[i] = beginAsync(th, keys)
	}
	waitingOn(t, th.pending.shard("user"), "user")
	time.Sleep(20 * time.Millisecond) // let the others wait too
	_, e = first.fail(context.Background())
	require.Nil(t, e)
	first.end()
	for _, out := range outs {
		e := awaitWaiter(t, out, "a waiter still waits")
		require.NotNil(t, e)
		assert.Equal(t, CodeSlowDown, e.Code)
	}
	// Each waiter: refused, then woken by the failure and refused again.
	assert.LessOrEqual(t, int(lim.reserves.Load()), 2+n*2*2)
}

// outageBatchLimiter is seqBatchLimiter whose ReserveAll fails, as the
// Redis limiter's does in an outage (refused -1), for keys holding key
// bad, and counts the calls for the others.
type outageBatchLimiter struct {
	seqBatchLimiter
	bad      string
	reserves atomic.Int32
}

func (l *outageBatchLimiter) ReserveAll(ctx context.Context, keys []storage.LimitKey) (int, time.Duration, error) {
	for _, k := range keys {
		if k.Key == l.bad {
			return -1, 0, errors.New("limiter outage")
		}
	}
	l.reserves.Add(1)
	return l.seqBatchLimiter.ReserveAll(ctx, keys)
}

// An attempt whose BatchLimiter reservation failed (an outage: what it
// counted is not known) gave nothing back: attempts waiting under its
// keys wait on for the one in flight, rather than each reserve again
// for every attempt that meets the outage.
func TestLimiterOutageWakesNoWaiter(t *testing.T) {
	one := storage.Rate{Burst: 1, Every: time.Hour}
	many := storage.Rate{Burst: 1000, Every: time.Hour}
	mem := memory.NewLimiter(memory.LimiterConfig{})
	lim := &outageBatchLimiter{seqBatchLimiter: seqBatchLimiter{mem}, bad: "bad ip"}
	th := &throttler{limiter: mem, batch: lim, pending: newPending(), maxWait: time.Minute}
	keys := [2]storage.LimitKey{{Key: "ip", Rate: many}, {Key: "user", Rate: one}}
	first, e := th.begin(context.Background(), keys)
	require.Nil(t, e)
	waiter := beginAsync(th, keys) // refused by the user key that first holds
	waitingOn(t, th.pending.shard("user"), "user")
	require.Equal(t, int32(2), lim.reserves.Load())

	_, e = th.begin(context.Background(), [2]storage.LimitKey{{Key: "bad ip", Rate: many}, keys[1]})
	require.NotNil(t, e)
	assert.Equal(t, CodeTemporarilyUnavailable, e.Code)
	time.Sleep(20 * time.Millisecond) // a waiter woken would reserve again meanwhile
	assert.Equal(t, int32(2), lim.reserves.Load(), "the waiter was woken by the outage")

	first.end() // a success: refunded
	assert.Nil(t, awaitWaiter(t, waiter, "the waiter was not woken"))
}
