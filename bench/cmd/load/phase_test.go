package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sleeper returns a phase's op constructor whose set-up takes setup and
// whose i-th request (over all workers) takes lat(i).
func sleeper(setup time.Duration, lat func(i int64) time.Duration) (func(context.Context, int) (func(context.Context) error, error), *atomic.Int64) {
	var calls atomic.Int64
	return func(context.Context, int) (func(context.Context) error, error) {
		time.Sleep(setup)
		return func(context.Context) error {
			time.Sleep(lat(calls.Add(1) - 1))
			return nil
		}, nil
	}, &calls
}

// The request bound is exact: count requests, no more, whatever the
// number of workers.
func TestPhaseStopsAtTheRequestBound(t *testing.T) {
	for _, n := range []int{1, 3, 8} {
		op, calls := sleeper(0, func(int64) time.Duration { return 0 })
		r, err := phase(op, n, time.Minute, 7)
		require.NoError(t, err)
		assert.Equal(t, 7, r.n, "%d workers", n)
		assert.EqualValues(t, 7, calls.Load(), "%d workers", n)
	}
}

// The time bound: no request starts once d has passed.
func TestPhaseStopsAtTheTimeBound(t *testing.T) {
	op, calls := sleeper(0, func(int64) time.Duration { return 10 * time.Millisecond })
	start := time.Now()
	r, err := phase(op, 2, 100*time.Millisecond, 300)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), time.Second)
	assert.Less(t, r.n, 100, "2 workers of 10ms each for 100ms")
	assert.EqualValues(t, r.n, calls.Load())
}

// The rate is the requests completed over the time they took, the set-up
// (one token per worker) not included.
func TestPhaseRateIsOverTheMeasuredTime(t *testing.T) {
	op, _ := sleeper(300*time.Millisecond, func(int64) time.Duration { return 2 * time.Millisecond })
	r, err := phase(op, 1, time.Minute, 20)
	require.NoError(t, err)
	// 20 requests of ≥ 2ms: at most 500 a second; the set-up's 300ms
	// counted would put it under 20/0.3 ≈ 67, the minute bound under 1.
	assert.LessOrEqual(t, r.rate, 500.0)
	assert.Greater(t, r.rate, 100.0)
}

// The percentiles are of the requests' latencies, sorted: with one
// worker alternating fast and 20ms requests, p50 is a fast one and p99
// a slow one.
func TestPhasePercentilesOfTheLatencies(t *testing.T) {
	op, _ := sleeper(0, func(i int64) time.Duration {
		if i%2 == 1 {
			return 20 * time.Millisecond
		}
		return 0
	})
	r, err := phase(op, 1, time.Minute, 20)
	require.NoError(t, err)
	assert.Less(t, r.p50, 20*time.Millisecond)
	assert.GreaterOrEqual(t, r.p99, 20*time.Millisecond)
}

// The first error ends the phase, and is its error; so is a set-up's.
func TestPhaseStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int64
	op := func(context.Context, int) (func(context.Context) error, error) {
		return func(ctx context.Context) error {
			if calls.Add(1) == 3 {
				return boom
			}
			return ctx.Err()
		}, nil
	}
	_, err := phase(op, 1, time.Minute, 1000)
	assert.ErrorIs(t, err, boom)
	assert.EqualValues(t, 3, calls.Load(), "requests after the error")

	_, err = phase(func(context.Context, int) (func(context.Context) error, error) { return nil, boom }, 2, time.Minute, 10)
	assert.ErrorIs(t, err, boom)
}

func TestParseLevels(t *testing.T) {
	got, err := parseLevels("1,8, 32,256")
	require.NoError(t, err)
	assert.Equal(t, []int{1, 8, 32, 256}, got)
	for _, s := range []string{"", "0", "257", "-1", "a", "1,,2", "1;2"} {
		_, err := parseLevels(s)
		assert.Error(t, err, "%q", s)
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "http://[::1]:8080", "http://localhost:8080", "http://127.0.0.2"} {
		assert.NoError(t, checkLoopback(u), u)
	}
	// The host it refuses is shown escaped: U+009B would start a terminal
	// control sequence.
	assert.EqualError(t, checkLoopback("http://%c2%9b31m.example/"),
		`\u009b31m.example is not a loopback address; load is only generated on loopback`)
	for _, u := range []string{"http://192.0.2.1:8080", "http://example.com", "http://localhost.example.com:80", "http://0.0.0.0:8080", "127.0.0.1:8080", "http://%zz"} {
		assert.Error(t, checkLoopback(u), u)
	}
}

// Bad options are refused before any request is sent, even to a server
// that would answer.
func TestRunRefusesBadOptionsBeforeAnyRequest(t *testing.T) {
	var hits atomic.Int64
	h := quickstartHandler(t, demoSecret)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ok := options{url: srv.URL, store: "memory", levels: "1", phases: "password", duration: time.Second, count: 1}
	for name, c := range map[string]struct {
		change func(*options)
		msg    string
	}{
		"a zero duration":                    {func(o *options) { o.duration = 0 }, "-d must be"},
		"a negative duration":                {func(o *options) { o.duration = -time.Second }, "-d must be"},
		"a run over 5 minutes":               {func(o *options) { o.duration = 5*time.Minute + 1 }, "-d must be"},
		"a zero count":                       {func(o *options) { o.count = 0 }, "-n positive"},
		"a bad concurrency":                  {func(o *options) { o.levels = "1,0" }, "bad concurrency level"},
		"a non-loopback URL":                 {func(o *options) { o.url = "http://192.0.2.1:8080" }, "not a loopback address"},
		"an unknown phase":                   {func(o *options) { o.phases = "nope" }, `unknown phase "nope"`},
		"an unknown phase after a known one": {func(o *options) { o.phases = "password,nope" }, `unknown phase "nope"`},
	} {
		t.Run(name, func(t *testing.T) {
			o := ok
			c.change(&o)
			before := hits.Load()
			err := run(io.Discard, o)
			assert.ErrorContains(t, err, c.msg)
			assert.Equal(t, before, hits.Load(), "requests sent")
		})
	}
	require.NoError(t, run(io.Discard, ok), "the options changed above are the only bad ones")
}

// No request starts after the first error, which is the phase's error: a
// worker whose request was in flight when another failed does not start
// another, whether its request then succeeded or was cancelled.
func TestPhaseStartsNothingAfterTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var calls [3]atomic.Int64
	inFlight := make(chan struct{}, 2)
	op := func(ctx context.Context, worker int) (func(context.Context) error, error) {
		return func(context.Context) error {
			calls[worker].Add(1)
			switch worker {
			case 0: // fails once the two others are in flight
				<-inFlight
				<-inFlight
				return boom
			case 1:
				started(inFlight)
				<-ctx.Done() // in flight until worker 0 failed, then a success
				return nil
			}
			started(inFlight)
			<-ctx.Done() // in flight until worker 0 failed, then cancelled
			return ctx.Err()
		}, nil
	}
	_, err := phase(op, 3, time.Minute, 1000)
	assert.ErrorIs(t, err, boom)
	assert.EqualValues(t, 1, calls[1].Load(), "requests of worker 1")
	assert.EqualValues(t, 1, calls[2].Load(), "requests of worker 2")
}

// started tells c a request started, unless c is full (a request started
// after the error, which the test then counts).
func started(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// A phase in which no request completed is an error, not a panic.
func TestPhaseWithoutARequest(t *testing.T) {
	op, calls := sleeper(0, func(int64) time.Duration { return 0 })
	_, err := phase(op, 1, time.Nanosecond, 10)
	assert.EqualError(t, err, "no request completed")
	assert.Zero(t, calls.Load())
}

// p50 and p99 are the nearest ranks of the phase's latencies: of 100
// requests, the 50th fastest (the first slow one when 49 are fast, a fast
// one when 50 are) and the 99th (not the slowest); of 50, the 25th and
// the 50th (the one slow one).
func TestPhasePercentileRanks(t *testing.T) {
	const slow = 5 * time.Millisecond
	firstSlow := func(k int64) func(int64) time.Duration {
		return func(i int64) time.Duration {
			if i >= k {
				return slow
			}
			return 0
		}
	}
	op, _ := sleeper(0, firstSlow(49))
	r, err := phase(op, 1, time.Minute, 100)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, r.p50, slow, "p50 of 49 fast and 51 slow")

	op, _ = sleeper(0, firstSlow(50))
	r, err = phase(op, 1, time.Minute, 100)
	require.NoError(t, err)
	assert.Less(t, r.p50, slow, "p50 of 50 fast and 50 slow")

	op, _ = sleeper(0, firstSlow(49))
	r, err = phase(op, 1, time.Minute, 50)
	require.NoError(t, err)
	assert.Less(t, r.p50, slow, "p50 of 49 fast and 1 slow")
	assert.GreaterOrEqual(t, r.p99, slow, "p99 of 49 fast and 1 slow")

	op, _ = sleeper(0, firstSlow(99))
	r, err = phase(op, 1, time.Minute, 100)
	require.NoError(t, err)
	assert.Less(t, r.p99, slow, "p99 of 99 fast and 1 slow")
}
