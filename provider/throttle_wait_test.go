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

// newTestThrottler is a throttler on a fresh memory limiter with a budget
// of one attempt per key, whose refused attempts wait at most maxWait.
func newTestThrottler(maxWait time.Duration) (*throttler, [2]storage.LimitKey) {
	one := storage.Rate{Burst: 1, Every: time.Hour}
	t := &throttler{limiter: memory.NewLimiter(memory.LimiterConfig{}), pending: newPending(), maxWait: maxWait}
	return t, [2]storage.LimitKey{{Key: "ip", Rate: one}, {Key: "user", Rate: one}}
}

// beginAsync begins an attempt under keys in a goroutine and returns
// where its outcome arrives.
func beginAsync(t *throttler, keys [2]storage.LimitKey) <-chan *Error {
	out := make(chan *Error, 1)
	go func() {
		a, e := t.begin(context.Background(), keys)
		if e == nil {
			a.end()
		}
		out <- e
	}()
	return out
}

// requireWaiting gives the attempt behind waiter time to be refused and
// wait, and fails the test if it did not wait.
func requireWaiting(t *testing.T, waiter <-chan *Error) {
	t.Helper()
	time.Sleep(20 * time.Millisecond) // let it be refused and wait
	select {
	case e := <-waiter:
		t.Fatalf("the waiter did not wait: %v", e)
	default:
	}
}

// awaitWaiter returns the outcome that arrives on waiter, failing the
// test with msg if none arrives within 5 seconds.
func awaitWaiter(t *testing.T, waiter <-chan *Error, msg string) *Error {
	t.Helper()
	select {
	case e := <-waiter:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal(msg)
		return nil
	}
}

// TestWaitingAttemptGivesUpWhenTheLastInFlightFails: an attempt refused
// while another holds the budget waits; when that one fails (no refund)
// and was the last in flight, the waiter is refused at once, not at the
// end of its wait.
func TestWaitingAttemptGivesUpWhenTheLastInFlightFails(t *testing.T) {
	th, keys := newTestThrottler(time.Minute)
	a, e := th.begin(context.Background(), keys)
	require.Nil(t, e)
	waiter := beginAsync(th, keys)
	requireWaiting(t, waiter)
	_, e = a.fail(context.Background())
	require.Nil(t, e)
	a.end()
	e = awaitWaiter(t, waiter, "the waiter was not woken when the last attempt in flight failed")
	require.NotNil(t, e)
	assert.Equal(t, CodeSlowDown, e.Code)
}

// TestWaitingAttemptGetsTheRefund: the waiter proceeds once the attempt in
// flight succeeds and is refunded.
func TestWaitingAttemptGetsTheRefund(t *testing.T) {
	th, keys := newTestThrottler(time.Minute)
	a, e := th.begin(context.Background(), keys)
	require.Nil(t, e)
	waiter := beginAsync(th, keys)
	requireWaiting(t, waiter)
	a.end() // success: refunded
	assert.Nil(t, awaitWaiter(t, waiter, "the waiter was not woken by the refund"))
}

// TestWaitIsBounded: an attempt in flight that never ends (a hung user
// database) holds a waiter for maxWait only, then it is refused.
func TestWaitIsBounded(t *testing.T) {
	th, keys := newTestThrottler(50 * time.Millisecond)
	a, e := th.begin(context.Background(), keys)
	require.Nil(t, e)
	defer a.end()
	start := time.Now()
	_, e = th.begin(context.Background(), keys)
	require.NotNil(t, e)
	assert.Equal(t, CodeSlowDown, e.Code)
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
}

// TestWaitingAttemptWhoseRequestEndsIsUnavailable: a refused attempt
// waiting for one in flight whose request ends meanwhile is answered as
// any request whose context ended (503, its cause the context's error),
// not as throttled: it was never judged, and a caller reading a 429 (or
// RetryAfter) would tell the user to wait for no reason.
func TestWaitingAttemptWhoseRequestEndsIsUnavailable(t *testing.T) {
	th, keys := newTestThrottler(time.Minute)
	a, e := th.begin(context.Background(), keys)
	require.Nil(t, e)
	defer a.end()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel) // once it waits
	start := time.Now()
	_, e = th.begin(ctx, keys)
	require.NotNil(t, e)
	assert.Less(t, time.Since(start), 5*time.Second, "it stopped waiting when its request ended")
	assert.Equal(t, CodeTemporarilyUnavailable, e.Code)
	assert.Equal(t, 503, e.Status)
	assert.ErrorIs(t, e, context.Canceled)
	_, throttled := RetryAfter(e)
	assert.False(t, throttled)
}

// TestWaitingAttemptGetsARefundWhileOthersAreInFlight: a refund wakes the
// waiter at once, even when other attempts under the key are still in
// flight (a slow user database): it must not wait for the last of them.
func TestWaitingAttemptGetsARefundWhileOthersAreInFlight(t *testing.T) {
	two := storage.Rate{Burst: 2, Every: time.Hour}
	th := &throttler{limiter: memory.NewLimiter(memory.LimiterConfig{}), pending: newPending(), maxWait: time.Minute}
	keys := [2]storage.LimitKey{{Key: "ip", Rate: two}, {Key: "user", Rate: two}}
	first, e := th.begin(context.Background(), keys)
	require.Nil(t, e)
	second, e := th.begin(context.Background(), keys)
	require.Nil(t, e)
	defer second.end() // still in flight while the waiter waits
	waiter := beginAsync(th, keys)
	requireWaiting(t, waiter)
	first.end() // success: refunded
	assert.Nil(t, awaitWaiter(t, waiter, "the waiter was not woken by a refund while another attempt was in flight"))
}
