package redis

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/limitertest"
)

// newTestLimiter returns a Limiter on c under a fresh prefix (see
// randomPrefix), whose keys are deleted when t ends.
func newTestLimiter(t *testing.T, c goredis.UniversalClient) (*Limiter, string) {
	t.Helper()
	prefix := randomPrefix(t) + "limit:"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := deleteKeys(ctx, c, "rate:"+prefix); err != nil {
			t.Errorf("delete test keys: %v", err)
		}
	})
	return NewLimiter(c, prefix), prefix
}

func TestLimiterConformance(t *testing.T) {
	for _, topo := range topologies {
		t.Run(topo.name, func(t *testing.T) {
			c := topo.client(t)
			limitertest.Run(t, func(t *testing.T, _ func() time.Time) storage.Limiter {
				l, _ := newTestLimiter(t, c)
				return l
			}, limitertest.Options{RealClock: true})
		})
	}
}

func TestLimiterKeys(t *testing.T) {
	for _, topo := range topologies {
		t.Run(topo.name, func(t *testing.T) {
			c := topo.client(t)
			l, prefix := newTestLimiter(t, c)
			ctx := context.Background()
			r := storage.Rate{Burst: 2, Every: 10 * time.Second}

			// Throttled stores nothing for a key never seen.
			_, err := l.Throttled(ctx, "fresh", r)
			require.NoError(t, err)
			n, err := c.Exists(ctx, "rate:"+prefix+"fresh").Result()
			require.NoError(t, err)
			assert.Zero(t, n, "Throttled must not create a key")

			// Fail stores one key, which expires once its bucket refilled.
			_, err = l.Fail(ctx, "k", r)
			require.NoError(t, err)
			ttl, err := c.TTL(ctx, "rate:"+prefix+"k").Result()
			require.NoError(t, err)
			assert.Positive(t, ttl, "the key must expire")
			assert.LessOrEqual(t, ttl, r.Every, "one failure of a burst of 2 refills within Every")
		})
	}
}

func TestLimiterIsSharedByInstances(t *testing.T) {
	for _, topo := range topologies {
		t.Run(topo.name, func(t *testing.T) {
			c := topo.client(t)
			a, prefix := newTestLimiter(t, c)
			b := NewLimiter(c, prefix) // another instance of the app
			ctx := context.Background()
			r := storage.Rate{Burst: 2, Every: time.Minute}
			w, err := a.Fail(ctx, "k", r)
			require.NoError(t, err)
			require.Zero(t, w)
			w, err = b.Fail(ctx, "k", r)
			require.NoError(t, err)
			assert.InDelta(t, time.Minute, w, float64(time.Second), "instance b must see instance a's failure")
			w, err = a.Throttled(ctx, "k", r)
			require.NoError(t, err)
			assert.Positive(t, w, "instance a must see instance b's failure")

			other := NewLimiter(c, prefix+"other:")
			w, err = other.Throttled(ctx, "k", r)
			require.NoError(t, err)
			assert.Zero(t, w, "a different prefix is a different limiter")
		})
	}
}

func TestLimiterOutageIsAnError(t *testing.T) {
	// Nothing listens on port 1 of loopback.
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	l := NewLimiter(c, "")
	r := storage.Rate{Burst: 1, Every: time.Minute}
	_, err := l.Throttled(context.Background(), "k", r)
	assert.Error(t, err, "Throttled must report an outage, not a zero wait")
	_, err = l.Fail(context.Background(), "k", r)
	require.Error(t, err, "Fail must report an outage")
	assert.True(t, strings.HasPrefix(err.Error(), "redis: limiter: "), "error %q", err)
	assert.NotContains(t, err.Error(), `"k"`, "errors do not name the key")
	keys := []storage.LimitKey{{Key: "k", Rate: r}, {Key: "j", Rate: r}}
	_, _, err = l.ReserveAll(context.Background(), keys)
	require.Error(t, err, "ReserveAll must report an outage")
	assert.True(t, strings.HasPrefix(err.Error(), "redis: limiter: "), "error %q", err)
	assert.Error(t, l.RefundAll(context.Background(), keys), "RefundAll must report an outage")
}

func TestLimiterCancelledContextIsAnError(t *testing.T) {
	c := singleClient(t)
	l, _ := newTestLimiter(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := l.Fail(ctx, "k", storage.Rate{Burst: 1, Every: time.Minute})
	assert.ErrorIs(t, err, context.Canceled)
}

// The stored format is that of github.com/go-redis/redis_rate, which
// earlier versions used, so that counts survive a rolling upgrade: the
// key "rate:" + prefix + key holds the theoretical arrival time in
// seconds since 2017-01-01 00:00:00 UTC by Redis's TIME, with a TTL that
// ends when it is reached.
func TestLimiterStoredFormat(t *testing.T) {
	for _, topo := range topologies {
		t.Run(topo.name, func(t *testing.T) {
			c := topo.client(t)
			l, prefix := newTestLimiter(t, c)
			ctx := context.Background()
			r := storage.Rate{Burst: 3, Every: time.Minute}
			since2017 := func() float64 {
				now, err := c.Time(ctx).Result()
				require.NoError(t, err)
				return now.Sub(time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)).Seconds()
			}
			tat := func(key string) float64 {
				v, err := c.Get(ctx, "rate:"+prefix+key).Float64()
				require.NoError(t, err)
				return v
			}

			// A key as the library left it after three failures of a
			// burst of 3: the burst is spent, one Every to wait.
			require.NoError(t, c.Set(ctx, "rate:"+prefix+"old", since2017()+180, 180*time.Second).Err())
			w, err := l.Throttled(ctx, "old", r)
			require.NoError(t, err)
			assert.InDelta(t, time.Minute, w, float64(time.Second), "Throttled reads the stored TAT")
			w, err = l.Reserve(ctx, "old", r)
			require.NoError(t, err)
			assert.InDelta(t, time.Minute, w, float64(time.Second), "Reserve is refused by the stored TAT")
			require.NoError(t, l.Refund(ctx, "old", r))
			assert.InDelta(t, since2017()+120, tat("old"), 1, "Refund takes one Every off the stored TAT")
			w, err = l.Reserve(ctx, "old", r)
			require.NoError(t, err)
			assert.Zero(t, w, "one reservation fits after the refund")

			// What this Limiter writes: a TAT one Every ahead per failure.
			_, err = l.Fail(ctx, "new", r)
			require.NoError(t, err)
			_, err = l.Fail(ctx, "new", r)
			require.NoError(t, err)
			assert.InDelta(t, since2017()+120, tat("new"), 1, "two failures of one minute")
			ttl, err := c.TTL(ctx, "rate:"+prefix+"new").Result()
			require.NoError(t, err)
			assert.InDelta(t, 120*time.Second, ttl, float64(2*time.Second), "the TTL ends at the TAT")
		})
	}
}

// FuzzReplySeconds: a number of seconds a script returned is read as a
// duration only when it is one: finite and within what a Duration holds.
// (Converting NaN, an infinity or a number out of range to an integer
// gives an implementation-dependent value in Go.)
func FuzzReplySeconds(f *testing.F) {
	for _, s := range []string{"0", "1.5", "-2", "1e-9", "NaN", "inf", "-Inf", "1e300", "9223372036.854775807", "9.3e9", "0x1p3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := replySeconds(s)
		x, perr := strconv.ParseFloat(s, 64)
		ns := x * float64(time.Second)
		if perr != nil || math.IsNaN(ns) || ns >= 1<<63 || ns < -(1<<63) {
			if err == nil {
				t.Fatalf("replySeconds(%q) = %v, want an error", s, d)
			}
			return
		}
		if err != nil || d != time.Duration(ns) {
			t.Fatalf("replySeconds(%q) = %v, %v; want %v", s, d, err, time.Duration(ns))
		}
	})
}

// A key outlives its TAT by up to a second (its TTL is rounded up to
// whole seconds); in that second its bucket is full, as if the key had
// expired: the passed TAT is no credit. A burst of 1 then allows one
// reservation, and the next is refused.
func TestLimiterPassedTATIsAFullBucket(t *testing.T) {
	for _, topo := range topologies {
		t.Run(topo.name, func(t *testing.T) {
			c := topo.client(t)
			l, prefix := newTestLimiter(t, c)
			ctx := context.Background()
			r := storage.Rate{Burst: 1, Every: 100 * time.Millisecond}
			w, err := l.Reserve(ctx, "k", r)
			require.NoError(t, err)
			require.Zero(t, w)
			time.Sleep(3 * r.Every) // the TAT has passed; the key lives on
			n, err := c.Exists(ctx, "rate:"+prefix+"k").Result()
			require.NoError(t, err)
			if n == 0 {
				t.Skip("the key expired before the test could use it (slow machine)")
			}
			w, err = l.Reserve(ctx, "k", r)
			require.NoError(t, err)
			require.Zero(t, w, "the bucket refilled")
			w, err = l.Reserve(ctx, "k", r)
			require.NoError(t, err)
			assert.Positive(t, w, "a burst of 1 allows one reservation, whatever the passed TAT left")
		})
	}
}

// A refund that leaves failures counted sets the key's TTL to end at its
// new TAT: the key neither loses its expiry nor outlives its bucket's
// refill by the refunded failure.
func TestLimiterRefundSetsTheTTL(t *testing.T) {
	for _, topo := range topologies {
		t.Run(topo.name, func(t *testing.T) {
			c := topo.client(t)
			l, prefix := newTestLimiter(t, c)
			ctx := context.Background()
			r := storage.Rate{Burst: 3, Every: time.Minute}
			for range 3 {
				_, err := l.Fail(ctx, "k", r)
				require.NoError(t, err)
			}
			require.NoError(t, l.Refund(ctx, "k", r))
			ttl, err := c.TTL(ctx, "rate:"+prefix+"k").Result()
			require.NoError(t, err)
			assert.InDelta(t, 120*time.Second, ttl, float64(2*time.Second), "the TTL ends at the TAT after the refund")

			require.NoError(t, l.RefundAll(ctx, []storage.LimitKey{{Key: "k", Rate: r}}))
			ttl, err = c.TTL(ctx, "rate:"+prefix+"k").Result()
			require.NoError(t, err)
			assert.InDelta(t, 60*time.Second, ttl, float64(2*time.Second), "RefundAll sets it too")
		})
	}
}

// A Burst beyond what a 16-bit count holds counts as given (up to
// MaxInt32): 40000 failures counted under a burst of 50000 do not
// throttle, and one more fits.
func TestLimiterLargeBurst(t *testing.T) {
	for _, topo := range topologies {
		t.Run(topo.name, func(t *testing.T) {
			c := topo.client(t)
			l, prefix := newTestLimiter(t, c)
			ctx := context.Background()
			r := storage.Rate{Burst: 50000, Every: time.Second}
			now, err := c.Time(ctx).Result()
			require.NoError(t, err)
			since2017 := now.Sub(time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)).Seconds()
			require.NoError(t, c.Set(ctx, "rate:"+prefix+"k", since2017+40000, 40000*time.Second).Err())
			w, err := l.Throttled(ctx, "k", r)
			require.NoError(t, err)
			assert.Zero(t, w, "40000 failures of a burst of 50000")
			w, err = l.Reserve(ctx, "k", r)
			require.NoError(t, err)
			assert.Zero(t, w, "and one more fits")
		})
	}
}

// The scripts take a cell's length to the nanosecond: with a cell of
// 1.5 ms, a burst of 1000 is 1.5 s, and a TAT 1.7 s ahead refuses a
// reservation (rounded to the millisecond, the burst was 2 s, and it fit).
func TestLimiterSubMillisecondEvery(t *testing.T) {
	for _, topo := range topologies {
		t.Run(topo.name, func(t *testing.T) {
			c := topo.client(t)
			l, prefix := newTestLimiter(t, c)
			ctx := context.Background()
			r := storage.Rate{Burst: 1000, Every: 1500 * time.Microsecond}
			now, err := c.Time(ctx).Result()
			require.NoError(t, err)
			since2017 := now.Sub(time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)).Seconds()
			require.NoError(t, c.Set(ctx, "rate:"+prefix+"k", since2017+1.7, 10*time.Second).Err())
			w, err := l.Reserve(ctx, "k", r)
			require.NoError(t, err)
			assert.Positive(t, w, "1000 cells of 1.5 ms are full 1.7 s ahead")
		})
	}
}

// NewLimiter with an empty prefix keys its buckets under
// DefaultLimiterPrefix.
func TestLimiterDefaultPrefix(t *testing.T) {
	c := singleClient(t)
	ctx := context.Background()
	key := randomPrefix(t) + "k" // unique under the shared default prefix
	redisKey := "rate:" + DefaultLimiterPrefix + key
	t.Cleanup(func() { _ = c.Del(context.Background(), redisKey).Err() })
	_, err := NewLimiter(c, "").Fail(ctx, key, storage.Rate{Burst: 2, Every: time.Minute})
	require.NoError(t, err)
	n, err := c.Exists(ctx, redisKey).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "the failure is counted under %s", redisKey)
}

// A Fail beyond the cap, which is not counted, reports the time until one
// more failure fits, which is less than the cap once time has passed
// since the bucket was last filled: not that time and one cell more.
func TestLimiterRefusedFailReportsTheTimeLeft(t *testing.T) {
	for _, topo := range topologies {
		t.Run(topo.name, func(t *testing.T) {
			c := topo.client(t)
			ctx := context.Background()
			r := storage.Rate{Burst: 2, Every: time.Second}
			const want, delta = 1500 * time.Millisecond, 200 * time.Millisecond
			near := func(d time.Duration) bool { return d >= want-delta && d <= want+delta }
			// The expected waits assume the calls take no time: an
			// attempt that spent more than delta outside its sleep (a
			// stalled machine) and missed them runs again, on a fresh key.
			for attempt := 1; ; attempt++ {
				l, _ := newTestLimiter(t, c)
				start := time.Now()
				for range 2*r.Burst - 1 { // the cap: 2 failures and 1 more
					_, err := l.Fail(ctx, "k", r)
					require.NoError(t, err)
				}
				time.Sleep(r.Every / 2)
				// 2.5 cells are taken, of which 1.5 must go before another
				// failure fits in the first 2; a third would pass the cap.
				w, err := l.Fail(ctx, "k", r)
				require.NoError(t, err)
				w2, err := l.Throttled(ctx, "k", r)
				require.NoError(t, err)
				busy := time.Since(start) - r.Every/2
				if busy > delta && attempt < 5 && (!near(w) || !near(w2)) {
					t.Logf("attempt %d spent %v outside its sleep and got waits %v and %v: running it again", attempt, busy, w, w2)
					continue
				}
				assert.InDelta(t, want, w, float64(delta))
				assert.InDelta(t, want, w2, float64(delta), "the refused failure was not counted")
				return
			}
		})
	}
}

// A key whose failures were counted under a larger Rate (the app's
// configuration lowered since) reports at most Burst×Every of the Rate
// it is asked under, from every call: Reserve too.
func TestLimiterWaitIsCappedAfterARateChange(t *testing.T) {
	for _, topo := range topologies {
		t.Run(topo.name, func(t *testing.T) {
			l, _ := newTestLimiter(t, topo.client(t))
			ctx := context.Background()
			old := storage.Rate{Burst: 5, Every: time.Minute}
			for range 2 * old.Burst {
				_, err := l.Fail(ctx, "k", old)
				require.NoError(t, err)
			}
			r := storage.Rate{Burst: 2, Every: time.Second}
			most := time.Duration(r.Burst) * r.Every
			w, err := l.Reserve(ctx, "k", r)
			require.NoError(t, err)
			assert.Equal(t, most, w, "Reserve")
			w, err = l.Throttled(ctx, "k", r)
			require.NoError(t, err)
			assert.Equal(t, most, w, "Throttled")
			w, err = l.Fail(ctx, "k", r)
			require.NoError(t, err)
			assert.Equal(t, most, w, "Fail")
			refused, w, err := l.ReserveAll(ctx, []storage.LimitKey{{Key: "k", Rate: r}})
			require.NoError(t, err)
			assert.Equal(t, 0, refused)
			assert.Equal(t, most, w, "ReserveAll")
		})
	}
}

// parseGCRA refuses a reply that is not gcraScript's three values: a
// status integer and two numbers of seconds.
func TestParseGCRARefusesMalformedReplies(t *testing.T) {
	for _, v := range [][]any{
		{int64(1), "0", "1.5", "2"},
		{int64(1), "0"},
		{"1", "0", "1.5"},
		{int64(0), int64(1), "1.5"},
		{int64(0), "1", "x"},
	} {
		cmd := goredis.NewCmd(context.Background())
		cmd.SetVal(v)
		_, err := parseGCRA(cmd)
		assert.Error(t, err, "%v", v)
	}
	cmd := goredis.NewCmd(context.Background())
	cmd.SetVal([]any{int64(0), "0.25", "1.5"})
	res, err := parseGCRA(cmd)
	require.NoError(t, err)
	assert.Equal(t, gcraResult{ok: false, wait: 250 * time.Millisecond, full: 1500 * time.Millisecond}, res)
}

// A Rate beyond what the limiter holds (Burst×Every past maxSpan) is
// bounded alike by every call: RefundAll, like Refund, takes back the one
// failure ReserveAll counted under the bounded rate, not the whole key.
func TestLimiterRefundOfABoundedRate(t *testing.T) {
	for _, topo := range topologies {
		t.Run(topo.name, func(t *testing.T) {
			l, _ := newTestLimiter(t, topo.client(t))
			ctx := context.Background()
			r := storage.Rate{Burst: 2, Every: 1 << 62} // about 146 years
			keys := []storage.LimitKey{{Key: "k", Rate: r}}
			for range 2 {
				refused, _, err := l.ReserveAll(ctx, keys)
				require.NoError(t, err)
				require.Equal(t, -1, refused)
			}
			require.NoError(t, l.RefundAll(ctx, keys))
			refused, _, err := l.ReserveAll(ctx, keys)
			require.NoError(t, err)
			require.Equal(t, -1, refused, "one failure was taken back")
			refused, w, err := l.ReserveAll(ctx, keys)
			require.NoError(t, err)
			assert.Equal(t, 0, refused, "the other stayed counted")
			assert.Positive(t, w)
		})
	}
}

// A reservation is refused until its wait is below limiterNoise (a
// microsecond, the float noise of the script's seconds), not merely
// below a millisecond: with a cell just under a millisecond, a second
// reservation of a burst of 1 in the same pipeline, microseconds after
// the first, is refused. (Either attempt of a few is: on a loaded
// machine the server may pause for the cell between the two.)
func TestLimiterRefusesAWaitBelowAMillisecond(t *testing.T) {
	for _, topo := range topologies {
		t.Run(topo.name, func(t *testing.T) {
			l, _ := newTestLimiter(t, topo.client(t))
			ctx := context.Background()
			r := storage.Rate{Burst: 1, Every: 999 * time.Microsecond}
			for i := range 5 {
				k := storage.LimitKey{Key: strconv.Itoa(i), Rate: r}
				refused, w, err := l.ReserveAll(ctx, []storage.LimitKey{k, k})
				require.NoError(t, err)
				if refused == 1 {
					assert.Positive(t, w)
					assert.LessOrEqual(t, w, r.Every)
					return
				}
			}
			t.Error("the second reservation of a key was never refused")
		})
	}
}
