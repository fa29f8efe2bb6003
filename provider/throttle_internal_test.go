package provider

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// Every rune of a case orbit (unicode.SimpleFold: K, k and the Kelvin
// sign; Cherokee's two cases) gives one throttling key, alone and inside a
// name, and folding is idempotent: no case spelling of a username buys a
// fresh budget.
func TestFoldUsernameMergesEveryCaseOrbit(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		o := unicode.SimpleFold(r)
		if o == r || o < 0 {
			continue
		}
		a, b := foldUsername("x"+string(r)+"y"), foldUsername("x"+string(o)+"y")
		if a != b {
			t.Errorf("U+%04X and U+%04X fold apart: %q, %q", r, o, a, b)
		}
		if again := foldUsername(a); again != a {
			t.Errorf("folding U+%04X is not idempotent: %q, then %q", r, a, again)
		}
	}
}

// endingLimiter refuses every reservation, and makes an attempt under
// another key of the same shard end during each one, as unrelated
// traffic does under load.
type endingLimiter struct {
	storage.Limiter
	sh       *pendingShard
	reserves int
}

func (l *endingLimiter) Reserve(context.Context, string, storage.Rate) (time.Duration, error) {
	l.reserves++
	l.sh.add("someone else")
	l.sh.done("someone else", false)
	return time.Minute, nil
}

// A refused attempt whose shard sees attempts end during every
// reservation tries again a bounded number of times, then answers 429: it
// does not spin on the limiter.
func TestBeginDoesNotSpinOnOtherKeysEndings(t *testing.T) {
	th, keys := newTestThrottler(maxPendingWait)
	l := &endingLimiter{Limiter: th.limiter, sh: th.pending.shard(keys[0].Key)}
	th.limiter = l

	done := make(chan *Error, 1)
	go func() { _, e := th.begin(context.Background(), keys); done <- e }()
	select {
	case e := <-done:
		require.NotNil(t, e)
		assert.Equal(t, http.StatusTooManyRequests, e.Status)
		assert.LessOrEqual(t, l.reserves, maxImmediateRetries+1)
	case <-time.After(10 * time.Second):
		t.Fatal("begin still spins on the limiter")
	}
}

// refundingLimiter refuses its first reservation, during which one of two
// attempts in flight under the key is refunded and ends, as a concurrent
// successful login does; it grants the next.
type refundingLimiter struct {
	storage.Limiter
	sh       *pendingShard
	key      string
	reserves int
}

func (l *refundingLimiter) Reserve(context.Context, string, storage.Rate) (time.Duration, error) {
	l.reserves++
	if l.reserves == 1 {
		l.sh.done(l.key, true)
		return time.Minute, nil
	}
	return 0, nil
}

func (l *refundingLimiter) Refund(context.Context, string, storage.Rate) error { return nil }

// An attempt refunded between a refused reservation and the wait closed no
// channel the refused one waits on: begin tries again at once, and gets
// the slot, instead of sleeping until the other attempt in flight ends.
func TestBeginRetriesAfterARefundItCouldNotWaitFor(t *testing.T) {
	th, keys := newTestThrottler(time.Hour)
	sh := th.pending.shard(keys[0].Key)
	sh.add(keys[0].Key) // two attempts in flight under the per-IP key
	sh.add(keys[0].Key)
	l := &refundingLimiter{Limiter: th.limiter, sh: sh, key: keys[0].Key}
	th.limiter = l

	done := beginAsync(th, keys)
	select {
	case e := <-done:
		assert.Nil(t, e, "the refunded slot is taken")
		assert.Equal(t, 3, l.reserves, "the refused key, then both keys again")
	case <-time.After(10 * time.Second):
		t.Fatal("begin sleeps while a slot is free")
	}
}

// foldUsername recycles its transformer chains: the same name folds the
// same way however many names were folded before, concurrently too.
func TestFoldUsernameIsStableAcrossReuse(t *testing.T) {
	names := []string{"Jöhn Dœ", "ᎠᎡᎢ", "ｊｏｈｎ", "\u1fb3x", "STRAẞE", "ŁeoN"}
	want := make([]string, len(names))
	for i, n := range names {
		want[i] = foldUsername(n)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				for i, n := range names {
					if got := foldUsername(n); got != want[i] {
						t.Errorf("foldUsername(%q) = %q, then %q", n, want[i], got)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// gateLimiter grants the first attempt's two reservations and holds the
// second until proceed is closed, refuses the next attempt's first
// reservation, and grants the rest.
type gateLimiter struct {
	storage.Limiter
	reserves  atomic.Int32
	reserved  chan struct{} // closed when the first attempt has reserved both keys
	proceed   chan struct{}
	refusedAt chan struct{} // closed when the second attempt was refused
}

func (l *gateLimiter) Reserve(context.Context, string, storage.Rate) (time.Duration, error) {
	switch l.reserves.Add(1) {
	case 2:
		close(l.reserved)
		<-l.proceed
	case 3:
		defer close(l.refusedAt)
		return time.Minute, nil
	}
	return 0, nil
}

func (l *gateLimiter) Refund(context.Context, string, storage.Rate) error { return nil }

// An attempt refused while another has reserved but not yet returned from
// its reservation finds that one in flight and waits for its refund: an
// attempt is in flight from before its reservation. It used to count only
// from after, and the refused one answered 429 though the other's
// reservation was about to be refunded (concurrent right passwords).
func TestBeginWaitsForAnAttemptStillReserving(t *testing.T) {
	th, keys := newTestThrottler(time.Hour)
	l := &gateLimiter{Limiter: th.limiter, reserved: make(chan struct{}), proceed: make(chan struct{}), refusedAt: make(chan struct{})}
	th.limiter = l

	first := beginAsync(th, keys) // a right password: refunded
	<-l.reserved
	second := beginAsync(th, keys)
	<-l.refusedAt
	sh := th.pending.shard(keys[0].Key)
	for waiting := false; !waiting; {
		select {
		case e := <-second:
			t.Fatalf("the refused attempt did not wait for the one reserving: %v", e)
		default:
		}
		sh.mu.Lock()
		f := sh.m[keys[0].Key]
		waiting = f != nil && f.ended != nil
		sh.mu.Unlock()
		runtime.Gosched()
	}
	close(l.proceed)
	assert.Nil(t, <-first)
	assert.Nil(t, <-second, "it got the refunded slot")
}

// refusingLimiter refuses every reservation and counts them; the first
// together ones wait for each other, so that all are in flight at once.
type refusingLimiter struct {
	storage.Limiter
	together int32
	all      chan struct{} // closed when together reservations arrived
	reserves atomic.Int32
}

func (l *refusingLimiter) Reserve(context.Context, string, storage.Rate) (time.Duration, error) {
	switch n := l.reserves.Add(1); {
	case n == l.together:
		close(l.all)
	case n < l.together:
		<-l.all
	}
	return time.Minute, nil
}

// Concurrent attempts under a spent key each ask the limiter once: one
// that wakes because the others were refused and left (freeing nothing)
// answers 429 instead of reserving again, which on a shared limiter is a
// round trip per wake-up, in a flood of refused requests.
func TestRefusedAttemptsReserveOnceEach(t *testing.T) {
	th, keys := newTestThrottler(time.Hour)
	const n = 16
	l := &refusingLimiter{Limiter: th.limiter, together: n, all: make(chan struct{})}
	th.limiter = l
	outs := make([]<-chan *Error, n)
	for i := range outs {
		outs[i] = beginAsync(th, keys)
	}
	for _, out := range outs {
		e := <-out
		require.NotNil(t, e)
		assert.Equal(t, http.StatusTooManyRequests, e.Status)
	}
	assert.EqualValues(t, n, l.reserves.Load())
}

// Retry-After is at least 1, even for a throttled error whose wait is
// not positive (a limiter that refuses with no wait): "0" would tell the
// client to try again at once. Any other error sets nothing.
func TestSetRetryAfterIsAtLeastOneSecond(t *testing.T) {
	for wait, want := range map[time.Duration]string{
		-time.Second: "1", 0: "1", time.Nanosecond: "1", time.Second: "1", time.Second + 1: "2",
	} {
		h := http.Header{}
		SetRetryAfter(h, errThrottled(wait))
		assert.Equal(t, want, h.Get("Retry-After"), "wait %v", wait)
	}
	h := http.Header{}
	SetRetryAfter(h, errInvalidGrant("x"))
	assert.Empty(t, h)
}
