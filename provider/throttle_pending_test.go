package provider

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// otherShardKey returns a key whose shard of p is none of keys'.
func otherShardKey(p *pending, keys ...string) string {
	for i := 0; ; i++ {
		k := "key " + strconv.Itoa(i)
		if !slices.ContainsFunc(keys, func(key string) bool { return p.shard(key) == p.shard(k) }) {
			return k
		}
	}
}

// Two attempts whose first keys differ share their second (two client IDs
// from one address share the per-IP key). One refused by the shared key
// while the other is in flight finds that one under the key that refused
// it, in that key's shard (not its first key's), and, woken by its
// refund, sees it ended there: it gets the refunded slot, not a 429.
func TestWaitingAttemptFindsASharedSecondKeyInFlight(t *testing.T) {
	one := storage.Rate{Burst: 1, Every: time.Hour}
	many := storage.Rate{Burst: 100, Every: time.Hour}
	th := &throttler{limiter: memory.NewLimiter(memory.LimiterConfig{}), pending: newPending(), maxWait: time.Minute}
	a := [2]storage.LimitKey{{Key: "client a", Rate: many}, {Key: "shared ip", Rate: one}}
	b := [2]storage.LimitKey{{Key: otherShardKey(th.pending, a[0].Key, a[1].Key), Rate: many}, a[1]}
	first, e := th.begin(context.Background(), a)
	require.Nil(t, e)
	waiter := beginAsync(th, b)
	requireWaiting(t, waiter)
	first.end() // success: refunded
	require.Nil(t, awaitWaiter(t, waiter, "the waiter was not woken by the refund"))
}

// An attempt woken again and again by refunds under its key that others
// take first waits maxWait in all, not maxWait from its last wake-up.
func TestWaitIsBoundedAcrossWakeUps(t *testing.T) {
	th, keys := newTestThrottler(100 * time.Millisecond)
	a, e := th.begin(context.Background(), keys) // holds the budget
	require.Nil(t, e)
	defer a.end()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // an attempt refunded every 10 ms, whose slot someone else takes
		sh := th.pending.shard(keys[0].Key)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				sh.add(keys[0].Key)
				sh.done(keys[0].Key, true)
			}
		}
	}()
	e = awaitWaiter(t, beginAsync(th, keys), "the wait starts over at each wake-up")
	require.NotNil(t, e)
	assert.Equal(t, CodeSlowDown, e.Code)
}

// A refused attempt tells how long the key must wait, however it stops
// waiting: at once with nobody in flight, woken when the last one in
// flight was refused and left (freeing nothing), or at the end of its
// wait.
func TestRefusedAttemptsRetryAfter(t *testing.T) {
	for name, maxWait := range map[string]time.Duration{"nobody in flight": time.Minute, "woken": time.Minute, "deadline": 20 * time.Millisecond} {
		t.Run(name, func(t *testing.T) {
			th, keys := newTestThrottler(maxWait)
			// The budget is spent (a failure), and the per-IP key waits an hour.
			_, err := th.limiter.Reserve(context.Background(), keys[0].Key, keys[0].Rate)
			require.NoError(t, err)
			sh := th.pending.shard(keys[0].Key)
			if name != "nobody in flight" {
				sh.add(keys[0].Key) // an attempt in flight, which will be refused
			}
			waiter := beginAsync(th, keys)
			if name == "woken" {
				requireWaiting(t, waiter)
				sh.leave(keys[0].Key, false)
			}
			e := awaitWaiter(t, waiter, "the attempt was not refused")
			require.NotNil(t, e)
			wait, ok := RetryAfter(e)
			assert.True(t, ok)
			assert.Greater(t, wait, 59*time.Minute)
		})
	}
}

// waitingOn returns the channel that an attempt refused under key, one
// of sh's keys, waits on, once one waits.
func waitingOn(t *testing.T, sh *pendingShard, key string) <-chan struct{} {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		sh.mu.Lock()
		var ended chan struct{}
		if f := sh.m[key]; f != nil && f.ended != nil {
			ended = f.ended.ch
		}
		sh.mu.Unlock()
		if ended != nil {
			return ended
		}
	}
	t.Fatalf("no attempt waits under %q", key)
	return nil
}

// An attempt that fails, while another under its key is still in flight,
// does not wake those waiting: it freed nothing, and each would ask the
// limiter again for nothing (a round trip to a shared one).
func TestFailureDoesNotWakeWaiters(t *testing.T) {
	two := storage.Rate{Burst: 2, Every: time.Hour}
	th := &throttler{limiter: memory.NewLimiter(memory.LimiterConfig{}), pending: newPending(), maxWait: time.Minute}
	keys := [2]storage.LimitKey{{Key: "ip", Rate: two}, {Key: "user", Rate: two}}
	first, e := th.begin(context.Background(), keys)
	require.Nil(t, e)
	second, e := th.begin(context.Background(), keys)
	require.Nil(t, e)
	waiter := beginAsync(th, keys)
	woken := waitingOn(t, th.pending.shard(keys[0].Key), keys[0].Key)
	_, e = first.fail(context.Background())
	require.Nil(t, e)
	first.end()
	select {
	case <-woken:
		t.Fatal("the failure woke the waiter")
	default:
	}
	second.end() // success: refunded
	assert.Nil(t, awaitWaiter(t, waiter, "the waiter was not woken by the refund"))
}

// end may be called more than once: the second call refunds nothing (it
// would give back a failure counted before the attempt) and leaves the
// in-flight counts alone.
func TestAttemptEndTwice(t *testing.T) {
	two := storage.Rate{Burst: 2, Every: time.Hour}
	th := &throttler{limiter: memory.NewLimiter(memory.LimiterConfig{}), pending: newPending(), maxWait: time.Minute}
	keys := [2]storage.LimitKey{{Key: "ip", Rate: two}, {Key: "user", Rate: two}}
	ctx := context.Background()
	for _, k := range keys { // a failure counted before
		_, err := th.limiter.Reserve(ctx, k.Key, k.Rate)
		require.NoError(t, err)
	}
	a, e := th.begin(ctx, keys)
	require.Nil(t, e)
	a.end()
	require.NotPanics(t, a.end)
	for _, k := range keys { // the second failure spends the budget
		wait, err := th.limiter.Reserve(ctx, k.Key, k.Rate)
		require.NoError(t, err)
		require.Zero(t, wait)
		wait, err = th.limiter.Throttled(ctx, k.Key, k.Rate)
		require.NoError(t, err)
		assert.Positive(t, wait, "the failure counted before was refunded")
	}
}

// The cause of a throttled error, which a caller may log, says how long
// the attempt must wait.
func TestThrottledErrorCause(t *testing.T) {
	assert.EqualError(t, errors.Unwrap(errThrottled(90*time.Second)), "provider: throttled for 1m30s")
}

// A password or client secret attempt refused while another under its key
// is in flight stops waiting when its request ends: the wait is bound to
// the request's context, as TestWaitingAttemptWhoseRequestEndsIsUnavailable
// checks for the throttler alone.
func TestBeginWaitEndsWithTheRequest(t *testing.T) {
	one := storage.Rate{Burst: 1, Every: time.Hour}
	st := memory.New(memory.Config{})
	p, err := New(Config{Clients: st, Tokens: st, AllowInsecureHTTP: true, UserRate: one, IPRate: one, ClientRate: one})
	require.NoError(t, err)
	ip := netip.MustParseAddr("192.0.2.1")
	for name, begin := range map[string]func(context.Context) (attempt, *Error){
		"password": func(ctx context.Context) (attempt, *Error) { return p.beginPassword(ctx, ip, "alice") },
		"client":   func(ctx context.Context) (attempt, *Error) { return p.beginClient(ctx, "app", ip) },
	} {
		t.Run(name, func(t *testing.T) {
			a, e := begin(context.Background())
			require.Nil(t, e)
			defer a.end()
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel) // once it waits
			_, e = begin(ctx)
			require.NotNil(t, e)
			assert.Equal(t, http.StatusServiceUnavailable, e.Status)
			assert.ErrorIs(t, e, context.Canceled)
		})
	}
}
