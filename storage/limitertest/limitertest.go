// Package limitertest is the conformance suite every [storage.Limiter]
// backend runs, in the manner of [testing/fstest.TestFS]:
//
//	func TestLimiter(t *testing.T) {
//		limitertest.Run(t, func(t *testing.T, now func() time.Time) storage.Limiter {
//			return memory.NewLimiter(memory.LimiterConfig{Now: now})
//		}, limitertest.Options{})
//	}
//
// The suite drives a controllable clock: it hands newLimiter a now function
// and advances it instead of sleeping. A backend that reads its clock
// elsewhere (Redis uses the server's TIME) ignores now and sets
// [Options.RealClock]; the suite then waits for real where it must, with
// short intervals, for well under two seconds in all.
//
// The semantics checked, for a Rate{Burst: b, Every: e} and one key:
// the first b-1 failures leave the key free to try at once (Fail returns
// 0); the b-th failure spends the burst, so Fail returns e, and so does
// Throttled until the clock has advanced by e. A failure counted while
// the bucket is empty adds e to the wait, up to a cap: the wait never
// exceeds b*e. Throttled counts nothing, keys are independent and each
// call names its own Rate. Reserve is Fail when the key is free, and
// otherwise counts nothing and returns the wait, atomically: of many
// concurrent Reserves exactly the free ones count. Refund takes back one
// failure, and never makes a key freer than a key that never failed.
//
// A backend that is a [storage.BatchLimiter] runs its tests too (they are
// skipped for one that is not): ReserveAll is Reserve of every key when
// all are free, and when one must wait it reports that key and its wait
// (when several must, the one that must wait longest) and leaves nothing
// counted under any key; RefundAll is Refund of every key.
package limitertest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/gate"
	"github.com/oauth2provider/oauth2provider/storage"
)

// Options tells [Run] what the backend under test can do.
type Options struct {
	// RealClock says that the backend ignores the now function it is
	// given and uses a clock of its own (Redis: the server's TIME). The
	// suite then sleeps where it would have advanced its fake clock, and
	// allows for the time that passes between calls. The zero value
	// means the backend honours now, and the suite never sleeps.
	RealClock bool
}

// minute is the Every of the subtests that never wait: long enough that
// real time elapsing during a subtest is negligible against it.
const minute = time.Minute

// clock is the suite's view of time: a fake clock it advances, or the real
// one it sleeps on.
type clock struct {
	real bool

	mu    sync.Mutex
	now   time.Time
	slept time.Duration // the real clock's sleeps, as asked for
}

func (c *clock) Now() time.Time {
	if c.real {
		return time.Now()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// advance moves the clock forward by d. The real clock sleeps a little
// longer than d, to absorb the rounding of the backend's wait and the
// skew between the test's and the server's clocks.
func (c *clock) advance(d time.Duration) {
	if c.real {
		c.mu.Lock()
		c.slept += d + 15*time.Millisecond
		c.mu.Unlock()
		time.Sleep(d + 15*time.Millisecond)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testingT is what the subtests use of their *testing.T; under a real
// clock it is an attempt's recorder.
type testingT interface {
	Helper()
	Errorf(format string, args ...any)
	FailNow()
	Skip(args ...any)
}

// suite holds one subtest's limiter, clock and tolerances.
type suite struct {
	t   testingT
	ctx context.Context
	lim storage.Limiter
	clk *clock
	// tol is how far a reported wait may fall short of the exact value:
	// float rounding under a fake clock, elapsed time under a real one.
	tol time.Duration
	// short is the Every of subtests that must wait for the clock.
	short time.Duration
}

// Run runs the conformance suite against the limiters newLimiter makes,
// one fresh limiter per subtest. newLimiter is given the subtest's t (to
// register cleanup and to skip) and the clock the limiter must read, which
// a backend with [Options.RealClock] ignores.
func Run(t *testing.T, newLimiter func(t *testing.T, now func() time.Time) storage.Limiter, opts Options) {
	tests := []struct {
		name string
		fn   func(s *suite)
	}{
		{"FreshKeyIsNotThrottled", testFreshKey},
		{"ThrottledCountsNothing", testThrottledCountsNothing},
		{"BurstIsAllowedThenWaitEvery", testBurst},
		{"WaitingAllowsOneMoreFailure", testWaitAllowsOneMore},
		{"FullBucketForgetsFailures", testFullRefill},
		{"KeysAreIndependent", testKeysIndependent},
		{"RateIsPerCall", testRatesPerKey},
		{"ConcurrentFailuresAllCount", testConcurrentFails},
		{"RetryAfterIsCappedAtBurstTimesEvery", testCap},
		{"InvalidRateIsAnError", testInvalidRate},
		{"ReserveCountsOnlyWhenFree", testReserve},
		{"RefundTakesBackOneFailure", testRefund},
		{"LongRatesAreValid", testLongRates},
		{"ConcurrentReservesNeverExceedBurst", testConcurrentReserves},
		{"Batch/ReserveAllCountsEveryKeyOnce", testReserveAll},
		{"Batch/ReserveAllRefusedCountsNothing", testReserveAllRefused},
		{"Batch/ReserveAllReportsTheLongestWait", testReserveAllLongestWait},
		{"Batch/RefundAllTakesBackOneFailurePerKey", testRefundAll},
		{"Batch/ConcurrentReserveAllsNeverExceedBurst", testConcurrentReserveAlls},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !opts.RealClock {
				clk := &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
				s := &suite{t: t, ctx: context.Background(), clk: clk, tol: time.Millisecond, short: minute}
				s.lim = newLimiter(t, clk.Now)
				require.NotNil(t, s.lim, "newLimiter returned nil")
				tc.fn(s)
				return
			}
			runRealClock(t, func(t testingT) *suite {
				clk := &clock{real: true}
				s := &suite{
					t:   t,
					ctx: context.Background(),
					clk: clk,
					// Wide enough for a loaded CI machine under -race:
					// a stall of 100 ms between two calls has been seen.
					tol:   250 * time.Millisecond,
					short: 500 * time.Millisecond,
				}
				return s
			}, newLimiter, tc.fn)
		})
	}
}

// realClockAttempts is how many times a subtest runs under a real clock
// when each attempt that fails was stalled (see [runRealClock]).
const realClockAttempts = 5

// runRealClock runs fn on a fresh limiter, recording its failures instead
// of reporting them. The time an attempt spends outside the clock's
// sleeps bounds every gap between two of its calls, and between a sleep's
// end and the call after it; the assertions allow s.tol for such gaps (a
// real clock's wait shrinks while the test is stalled, and a stall of
// Every after a wait refills one more cell). So a failed attempt whose
// time outside its sleeps exceeded s.tol proves nothing: the machine
// stalled the test, and the subtest runs again, with a fresh limiter, up
// to realClockAttempts times. A failure without such a stall, or the
// last attempt's, is reported as it is.
func runRealClock(t *testing.T, newSuite func(testingT) *suite, newLimiter func(t *testing.T, now func() time.Time) storage.Limiter, fn func(*suite)) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		rec := &recorder{T: t}
		s := newSuite(rec)
		s.lim = newLimiter(t, s.clk.Now)
		require.NotNil(t, s.lim, "newLimiter returned nil")
		start := time.Now()
		rec.run(func() { fn(s) })
		busy := time.Since(start) - s.clk.slept
		if !rec.failed() {
			return
		}
		if busy <= s.tol || attempt == realClockAttempts {
			if busy > s.tol {
				t.Logf("every attempt was stalled; the last spent %v outside its sleeps, more than the tolerance %v", busy, s.tol)
			}
			rec.report()
			return
		}
		t.Logf("attempt %d failed after spending %v outside its sleeps, more than the tolerance %v: running it again; its failures were:\n%s",
			attempt, busy, s.tol, strings.Join(rec.errs, "\n"))
	}
}

// recorder is the testingT of one real-clock attempt: it keeps the
// failures for [runRealClock] to judge, and its FailNow ends the attempt
// only. Skip skips the subtest itself.
type recorder struct {
	*testing.T
	mu      sync.Mutex
	errs    []string
	stopped bool // FailNow was called
}

// errFailNow is the panic with which a recorder's FailNow ends an attempt.
var errFailNow = errors.New("limitertest: FailNow")

// Errorf records a failure.
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// FailNow ends the attempt; it must be called from the goroutine running
// it, as [testing.T.FailNow] must.
func (r *recorder) FailNow() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	panic(errFailNow)
}

// run calls fn, stopping at FailNow.
func (r *recorder) run(fn func()) {
	defer func() {
		if v := recover(); v != nil && v != errFailNow {
			panic(v)
		}
	}()
	fn()
}

// failed reports whether the attempt recorded a failure.
func (r *recorder) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errs) > 0 || r.stopped
}

// report reports the attempt's failures to its test.
func (r *recorder) report() {
	r.T.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.errs {
		r.T.Error(e)
	}
	if r.stopped {
		r.T.FailNow()
	}
}

// fail calls Fail and requires it to succeed.
func (s *suite) fail(key string, r storage.Rate) time.Duration {
	s.t.Helper()
	d, err := s.lim.Fail(s.ctx, key, r)
	require.NoError(s.t, err, "Fail")
	require.GreaterOrEqual(s.t, d, time.Duration(0), "Fail returned a negative wait")
	return d
}

// reserve calls Reserve and requires it to succeed.
func (s *suite) reserve(key string, r storage.Rate) time.Duration {
	s.t.Helper()
	d, err := s.lim.Reserve(s.ctx, key, r)
	require.NoError(s.t, err, "Reserve")
	require.GreaterOrEqual(s.t, d, time.Duration(0), "Reserve returned a negative wait")
	return d
}

// refund calls Refund and requires it to succeed.
func (s *suite) refund(key string, r storage.Rate) {
	s.t.Helper()
	require.NoError(s.t, s.lim.Refund(s.ctx, key, r), "Refund")
}

// concurrently makes n calls of call (named name) at once and returns
// their waits, requiring every call to succeed.
func (s *suite) concurrently(n int, name string, call func() (time.Duration, error)) []time.Duration {
	s.t.Helper()
	waits := make([]time.Duration, n)
	errs := gate.AtOnce(n, func(i int) (err error) {
		waits[i], err = call()
		return err
	})
	for i, err := range errs {
		require.NoError(s.t, err, "%s in goroutine %d", name, i)
	}
	return waits
}

// throttled calls Throttled and requires it to succeed.
func (s *suite) throttled(key string, r storage.Rate) time.Duration {
	s.t.Helper()
	d, err := s.lim.Throttled(s.ctx, key, r)
	require.NoError(s.t, err, "Throttled")
	require.GreaterOrEqual(s.t, d, time.Duration(0), "Throttled returned a negative wait")
	return d
}

// near asserts that got is want, give or take s.tol below (time passes,
// so a real clock's wait only shrinks) and no more than 1ms above
// (rounding).
func (s *suite) near(want, got time.Duration, msg string, args ...any) bool {
	s.t.Helper()
	msgAndArgs := append([]any{msg}, args...)
	ok := assert.GreaterOrEqual(s.t, got, want-s.tol, msgAndArgs...)
	return assert.LessOrEqual(s.t, got, want+time.Millisecond, msgAndArgs...) && ok
}

func testFreshKey(s *suite) {
	r := storage.Rate{Burst: 3, Every: minute}
	assert.Zero(s.t, s.throttled("fresh", r), "a key never seen must not be throttled")
	r1 := storage.Rate{Burst: 1, Every: minute}
	assert.Zero(s.t, s.throttled("fresh-burst-1", r1), "a key never seen must not be throttled, even with Burst 1")
}

func testThrottledCountsNothing(s *suite) {
	r := storage.Rate{Burst: 3, Every: minute}
	for range 10 {
		require.Zero(s.t, s.throttled("k", r))
	}
	// Only Fail counts: two failures still leave the key free.
	assert.Zero(s.t, s.fail("k", r), "failure 1 of burst 3")
	assert.Zero(s.t, s.fail("k", r), "failure 2 of burst 3")
	for range 10 {
		require.Zero(s.t, s.throttled("k", r))
	}
	// Asking while throttled does not lengthen the wait.
	w := s.fail("k", r)
	s.near(minute, w, "failure 3 of burst 3")
	for range 10 {
		got := s.throttled("k", r)
		require.Positive(s.t, got)
		require.LessOrEqual(s.t, got, w, "Throttled must not lengthen the wait")
	}
}

func testBurst(s *suite) {
	const burst = 5
	r := storage.Rate{Burst: burst, Every: minute}
	for i := 1; i < burst; i++ {
		assert.Zero(s.t, s.fail("k", r), "failure %d of burst %d must leave the key free", i, burst)
		assert.Zero(s.t, s.throttled("k", r), "after failure %d of burst %d", i, burst)
	}
	w := s.fail("k", r)
	s.near(minute, w, "the failure that spends the burst must return Every")
	got := s.throttled("k", r)
	s.near(w, got, "Throttled right after Fail must report Fail's wait")
	assert.LessOrEqual(s.t, got, w)
}

func testWaitAllowsOneMore(s *suite) {
	r := storage.Rate{Burst: 2, Every: s.short}
	require.Zero(s.t, s.fail("k", r))
	w := s.fail("k", r)
	s.near(r.Every, w, "the failure that spends the burst")
	if !s.clk.real {
		s.clk.advance(w - time.Millisecond)
		assert.Positive(s.t, s.throttled("k", r), "1ms before the wait is over, the key must still be throttled")
		s.clk.advance(time.Millisecond)
	} else {
		s.clk.advance(s.throttled("k", r))
	}
	assert.Zero(s.t, s.throttled("k", r), "once the wait is over the key may try again")
	// Exactly one more failure was allowed: it empties the bucket again.
	w = s.fail("k", r)
	s.near(r.Every, w, "the one failure allowed after the wait")
	assert.Positive(s.t, s.throttled("k", r))
}

func testFullRefill(s *suite) {
	r := storage.Rate{Burst: 2, Every: s.short}
	require.Zero(s.t, s.fail("k", r))
	require.Positive(s.t, s.fail("k", r))
	s.clk.advance(time.Duration(r.Burst) * r.Every)
	// The bucket is full again: the whole burst is available.
	assert.Zero(s.t, s.throttled("k", r))
	assert.Zero(s.t, s.fail("k", r), "after Burst*Every, a full burst is allowed again")
	assert.Positive(s.t, s.fail("k", r))
}

func testKeysIndependent(s *suite) {
	r := storage.Rate{Burst: 1, Every: minute}
	s.near(minute, s.fail("a", r), "Burst 1: the first failure spends it")
	require.Positive(s.t, s.throttled("a", r))
	for _, k := range []string{"b", "A", "a ", "a\x00", ""} {
		assert.Zero(s.t, s.throttled(k, r), "key %q must not share key %q's bucket", k, "a")
	}
	s.near(minute, s.fail("b", r), "key b's own first failure")
	s.near(minute, s.throttled("a", r), "key a is unaffected by key b")
}

func testRatesPerKey(s *suite) {
	strict := storage.Rate{Burst: 1, Every: 10 * minute}
	lax := storage.Rate{Burst: 4, Every: minute}
	s.near(strict.Every, s.fail("strict", strict), "Burst 1: the wait is Every")
	for i := 1; i < lax.Burst; i++ {
		assert.Zero(s.t, s.fail("lax", lax), "lax failure %d", i)
	}
	s.near(lax.Every, s.fail("lax", lax), "lax: the failure that spends the burst")
	s.near(strict.Every, s.throttled("strict", strict), "strict key keeps its own rate")
}

func testConcurrentFails(s *suite) {
	const workers = 16
	r := storage.Rate{Burst: 10, Every: minute}
	waits := s.concurrently(workers, "Fail", func() (time.Duration, error) { return s.lim.Fail(s.ctx, "k", r) })
	// The j-th failure (j from 1) must wait (j-Burst+1)*Every, whichever
	// goroutine made it: Burst-1 zeros, then 1, 2, ... 7 times Every.
	slices.Sort(waits)
	for j, w := range waits {
		want := max(0, time.Duration(j+1-r.Burst+1)*r.Every)
		s.near(want, w, "failure %d of %d concurrent failures", j+1, workers)
	}
	want := time.Duration(workers-r.Burst+1) * r.Every
	s.near(want, s.throttled("k", r), "after Burst+k concurrent failures the wait is (k+1)*Every")
}

func testCap(s *suite) {
	r := storage.Rate{Burst: 3, Every: minute}
	maxWait := time.Duration(r.Burst) * r.Every
	var last time.Duration
	for i := range 4 * r.Burst {
		last = s.fail("k", r)
		require.LessOrEqual(s.t, last, maxWait, "failure %d: the wait must not exceed Burst*Every", i+1)
	}
	s.near(maxWait, last, "many failures saturate the wait at Burst*Every")
	got := s.throttled("k", r)
	assert.LessOrEqual(s.t, got, maxWait)
	s.near(maxWait, got, "Throttled once saturated")

	// Failures beyond the cap are not counted: the wait reported is the
	// truth, and once it has passed the key may try again.
	short := storage.Rate{Burst: 1, Every: s.short}
	for i := range 4 {
		w := s.fail("short", short)
		require.LessOrEqual(s.t, w, short.Every, "failure %d", i+1)
	}
	s.clk.advance(s.throttled("short", short))
	assert.Zero(s.t, s.throttled("short", short), "a saturated key must be free once the reported wait has passed")
}

func testInvalidRate(s *suite) {
	for _, r := range []storage.Rate{
		{Burst: 0, Every: minute},
		{Burst: -1, Every: minute},
		{Burst: 1, Every: 0},
		{Burst: 1, Every: -time.Second},
	} {
		name := fmt.Sprintf("%+v", r)
		_, err := s.lim.Throttled(s.ctx, "k", r)
		assert.Error(s.t, err, "Throttled with %s", name)
		_, err = s.lim.Fail(s.ctx, "k", r)
		assert.Error(s.t, err, "Fail with %s", name)
		_, err = s.lim.Reserve(s.ctx, "k", r)
		assert.Error(s.t, err, "Reserve with %s", name)
		assert.Error(s.t, s.lim.Refund(s.ctx, "k", r), "Refund with %s", name)
		if b, ok := s.lim.(storage.BatchLimiter); ok {
			keys := []storage.LimitKey{{Key: "ok", Rate: storage.Rate{Burst: 2, Every: minute}}, {Key: "k", Rate: r}}
			_, _, err = b.ReserveAll(s.ctx, keys)
			assert.Error(s.t, err, "ReserveAll with %s", name)
			assert.Error(s.t, b.RefundAll(s.ctx, keys), "RefundAll with %s", name)
		}
	}
	// The failed calls counted nothing.
	assert.Zero(s.t, s.throttled("ok", storage.Rate{Burst: 2, Every: minute}))
	assert.Zero(s.t, s.throttled("k", storage.Rate{Burst: 2, Every: minute}))
	assert.Zero(s.t, s.fail("k", storage.Rate{Burst: 2, Every: minute}))
}

func testReserve(s *suite) {
	r := storage.Rate{Burst: 3, Every: s.short}
	for i := 1; i <= r.Burst; i++ {
		assert.Zero(s.t, s.reserve("k", r), "reservation %d of burst %d", i, r.Burst)
	}
	s.near(r.Every, s.throttled("k", r), "Burst reservations count as Burst failures")
	for range 3 {
		w := s.reserve("k", r)
		s.near(r.Every, w, "a reservation while throttled is refused with the wait")
	}
	s.near(r.Every, s.throttled("k", r), "refused reservations count nothing")
	s.clk.advance(s.throttled("k", r))
	assert.Zero(s.t, s.reserve("k", r), "once the wait is over, one more reservation")
	assert.Positive(s.t, s.reserve("k", r), "and only one")
}

func testRefund(s *suite) {
	r := storage.Rate{Burst: 2, Every: minute}
	require.Zero(s.t, s.reserve("k", r))
	require.Zero(s.t, s.reserve("k", r))
	require.Positive(s.t, s.throttled("k", r))
	s.refund("k", r)
	assert.Zero(s.t, s.throttled("k", r), "a refund frees the key again")
	assert.Zero(s.t, s.reserve("k", r), "one reservation fits after one refund")
	assert.Positive(s.t, s.reserve("k", r), "and only one")

	one := storage.Rate{Burst: 1, Every: minute}
	require.Zero(s.t, s.reserve("one", one))
	s.near(one.Every, s.throttled("one", one), "Burst 1: a reservation spends it")
	s.refund("one", one)
	assert.Zero(s.t, s.throttled("one", one), "Burst 1: a refund gives the whole burst back")
	assert.Zero(s.t, s.reserve("one", one))

	// A refund never makes a key freer than one that never failed.
	s.refund("fresh", r)
	s.refund("fresh", r)
	assert.Zero(s.t, s.reserve("fresh", r))
	assert.Zero(s.t, s.reserve("fresh", r))
	assert.Positive(s.t, s.reserve("fresh", r), "refunds of a fresh key buy no extra attempts")
}

func testConcurrentReserves(s *suite) {
	const workers = 16
	r := storage.Rate{Burst: 10, Every: minute}
	waits := s.concurrently(workers, "Reserve", func() (time.Duration, error) { return s.lim.Reserve(s.ctx, "k", r) })
	free := 0
	for _, w := range waits {
		if w == 0 {
			free++
		}
	}
	assert.Equal(s.t, r.Burst, free, "exactly Burst of %d concurrent reservations count", workers)
	s.near(r.Every, s.throttled("k", r), "the refused ones counted nothing")
}

// batch returns the limiter as a BatchLimiter, and skips the subtest when
// it is none.
func (s *suite) batch() storage.BatchLimiter {
	s.t.Helper()
	b, ok := s.lim.(storage.BatchLimiter)
	if !ok {
		s.t.Skip("the limiter is not a storage.BatchLimiter")
	}
	return b
}

// reserveAll calls ReserveAll and requires it to succeed and to report
// a refusal well formed.
func (s *suite) reserveAll(b storage.BatchLimiter, keys ...storage.LimitKey) (int, time.Duration) {
	s.t.Helper()
	refused, wait, err := b.ReserveAll(s.ctx, keys)
	require.NoError(s.t, err, "ReserveAll")
	if refused < 0 {
		require.Equal(s.t, -1, refused, "ReserveAll returned a negative index other than -1")
		require.Zero(s.t, wait, "ReserveAll reserved every key but returned a wait")
	} else {
		require.Less(s.t, refused, len(keys), "ReserveAll returned an index out of range")
		require.Positive(s.t, wait, "ReserveAll refused a key without a wait")
	}
	return refused, wait
}

// reserved returns how many reservations under key of rate r fit now (up
// to r.Burst), by making them: the failures already counted under key
// are r.Burst less that.
func (s *suite) reserved(key string, r storage.Rate) int {
	s.t.Helper()
	n := 0
	for n < r.Burst && s.reserve(key, r) == 0 {
		n++
	}
	return r.Burst - n
}

func testReserveAll(s *suite) {
	b := s.batch()
	r := storage.Rate{Burst: 3, Every: minute}
	other := storage.Rate{Burst: 5, Every: 2 * minute}
	keys := []storage.LimitKey{{Key: "a", Rate: r}, {Key: "b", Rate: other}}
	refused, _ := s.reserveAll(b, keys...)
	assert.Equal(s.t, -1, refused, "every key is free: all are reserved")
	assert.Equal(s.t, 1, s.reserved("a", r), "ReserveAll counts one failure under key a")
	assert.Equal(s.t, 1, s.reserved("b", other), "ReserveAll counts one failure under key b")
	assert.Zero(s.t, s.throttled("c", r), "and under no other key")

	refused, _ = s.reserveAll(b)
	assert.Equal(s.t, -1, refused, "ReserveAll of no key reserves nothing and refuses nothing")
}

func testReserveAllRefused(s *suite) {
	b := s.batch()
	free := storage.Rate{Burst: 3, Every: minute}
	tight := storage.Rate{Burst: 2, Every: s.short}
	require.Zero(s.t, s.reserve("full", tight))
	require.Zero(s.t, s.reserve("full", tight))
	want := s.throttled("full", tight)
	require.Positive(s.t, want)
	for i, keys := range [][]storage.LimitKey{
		{{Key: "full", Rate: tight}, {Key: "x", Rate: free}},
		{{Key: "x", Rate: free}, {Key: "full", Rate: tight}},
		{{Key: "x", Rate: free}, {Key: "y", Rate: free}, {Key: "full", Rate: tight}},
	} {
		refused, wait := s.reserveAll(b, keys...)
		full := slices.IndexFunc(keys, func(k storage.LimitKey) bool { return k.Key == "full" })
		if !assert.Equal(s.t, full, refused, "case %d: the key that must wait is reported", i) {
			continue
		}
		s.near(want, wait, "case %d: with its wait", i)
	}
	// Nothing is left counted under the free keys, nor under the full one.
	assert.Zero(s.t, s.throttled("x", free), "the free key x")
	assert.Zero(s.t, s.reserved("x", free), "no failure is left counted under the free key x")
	assert.Zero(s.t, s.reserved("y", free), "no failure is left counted under the free key y")
	s.near(want, s.throttled("full", tight), "nor a failure added under the key that must wait")
	s.clk.advance(s.throttled("full", tight))
	assert.Equal(s.t, 1, s.reserved("full", tight), "once the wait is over, one reservation fits again")
}

// testReserveAllLongestWait: when several keys must wait, ReserveAll
// reports the one that must wait longest, whatever its place, so that an
// attempt that waits as long as it is told is not refused again by
// another of its keys.
func testReserveAllLongestWait(s *suite) {
	b := s.batch()
	shorter := storage.Rate{Burst: 1, Every: minute}
	longer := storage.Rate{Burst: 1, Every: 3 * minute}
	require.Zero(s.t, s.reserve("short", shorter))
	require.Zero(s.t, s.reserve("long", longer))
	want := s.throttled("long", longer)
	require.Greater(s.t, want, s.throttled("short", shorter))
	for i, keys := range [][]storage.LimitKey{
		{{Key: "short", Rate: shorter}, {Key: "long", Rate: longer}},
		{{Key: "long", Rate: longer}, {Key: "short", Rate: shorter}},
	} {
		refused, wait := s.reserveAll(b, keys...)
		if !assert.Equal(s.t, "long", keys[max(refused, 0)].Key, "case %d: the key that must wait longest is reported", i) {
			continue
		}
		s.near(want, wait, "case %d: with its wait", i)
	}
}

func testRefundAll(s *suite) {
	b := s.batch()
	r := storage.Rate{Burst: 2, Every: minute}
	one := storage.Rate{Burst: 1, Every: minute}
	keys := []storage.LimitKey{{Key: "a", Rate: r}, {Key: "b", Rate: one}}
	refused, _ := s.reserveAll(b, keys...)
	require.Equal(s.t, -1, refused)
	require.Zero(s.t, s.reserve("a", r))
	require.Positive(s.t, s.throttled("a", r))
	require.Positive(s.t, s.throttled("b", one))

	require.NoError(s.t, b.RefundAll(s.ctx, keys), "RefundAll")
	assert.Equal(s.t, 1, s.reserved("a", r), "RefundAll takes back one failure under key a, not both")
	assert.Zero(s.t, s.throttled("b", one), "RefundAll takes back the failure under key b")
	assert.Zero(s.t, s.reserved("b", one), "no failure is left counted under key b")

	// A refund never makes a key freer than one that never failed.
	fresh := []storage.LimitKey{{Key: "fresh", Rate: r}}
	require.NoError(s.t, b.RefundAll(s.ctx, fresh))
	require.NoError(s.t, b.RefundAll(s.ctx, fresh))
	assert.Zero(s.t, s.reserved("fresh", r), "the whole burst, no more")
	assert.Positive(s.t, s.reserve("fresh", r), "refunds of a fresh key buy no extra attempts")
	require.NoError(s.t, b.RefundAll(s.ctx, nil), "RefundAll of no key")
}

func testConcurrentReserveAlls(s *suite) {
	b := s.batch()
	const workers = 16
	wide := storage.Rate{Burst: 20, Every: minute}
	narrow := storage.Rate{Burst: 5, Every: minute}
	// Every call reserves under "shared", which has room for all of them;
	// half of them also under "narrow", first or second, which has room
	// for 5 of those 8. The 3 refused must leave nothing under "shared".
	var mu sync.Mutex
	var started, admitted, admittedNarrow int
	s.concurrently(workers, "ReserveAll", func() (time.Duration, error) {
		mu.Lock()
		n := started
		started++
		mu.Unlock()
		keys := []storage.LimitKey{{Key: "shared", Rate: wide}}
		switch n % 4 {
		case 0:
			keys = append(keys, storage.LimitKey{Key: "narrow", Rate: narrow})
		case 2:
			keys = append([]storage.LimitKey{{Key: "narrow", Rate: narrow}}, keys...)
		}
		refused, wait, err := b.ReserveAll(s.ctx, keys)
		if err == nil && refused == -1 {
			mu.Lock()
			admitted++
			if len(keys) == 2 {
				admittedNarrow++
			}
			mu.Unlock()
		}
		return wait, err
	})
	assert.Equal(s.t, narrow.Burst, admittedNarrow, "exactly Burst of the calls under the narrow key are admitted")
	assert.Equal(s.t, workers/2+narrow.Burst, admitted, "and every call not under it")
	assert.Equal(s.t, admitted, s.reserved("shared", wide), "exactly the admitted calls count under the shared key")
}

// testLongRates: the contract refuses only Burst < 1 or Every <= 0; a
// lock-out of a century, or of the longest Duration, is a valid Rate that
// throttles (a limiter may shorten what it cannot count, as long as it
// still refuses past the burst).
func testLongRates(s *suite) {
	for _, r := range []storage.Rate{
		{Burst: 5, Every: 100 * 365 * 24 * time.Hour},
		{Burst: 1, Every: time.Duration(math.MaxInt64)},
		{Burst: math.MaxInt32, Every: time.Hour},
	} {
		key := fmt.Sprintf("long-%d-%d", r.Burst, r.Every)
		n := min(r.Burst, 5)
		for i := range n {
			wait, err := s.lim.Reserve(s.ctx, key, r)
			require.NoError(s.t, err, "%v: Reserve %d", r, i)
			assert.Zero(s.t, wait, "%v: Reserve %d", r, i)
		}
		_, err := s.lim.Throttled(s.ctx, key, r)
		require.NoError(s.t, err, "%v: Throttled", r)
		require.NoError(s.t, s.lim.Refund(s.ctx, key, r), "%v: Refund", r)
		if r.Burst > n {
			continue
		}
		wait, err := s.lim.Reserve(s.ctx, key, r) // the refunded one
		require.NoError(s.t, err)
		assert.Zero(s.t, wait, "%v: the refund freed one", r)
		wait, err = s.lim.Reserve(s.ctx, key, r)
		require.NoError(s.t, err, "%v: Reserve past the burst", r)
		assert.Greater(s.t, wait, time.Hour, "%v: refused past the burst", r)
	}
}
