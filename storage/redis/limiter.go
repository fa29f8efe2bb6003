package redis

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"

	"github.com/oauth2provider/oauth2provider/storage"
)

var _ storage.Limiter = (*Limiter)(nil)

// DefaultLimiterPrefix is the key prefix a [Limiter] uses when
// [NewLimiter] is given an empty one.
const DefaultLimiterPrefix = "oauth2:limit:"

// limiterNoise is the size of a wait that Redis's floating-point clock
// arithmetic can produce where the exact answer is zero; a wait below it
// is zero. Redis's TIME has microsecond resolution anyway.
const limiterNoise = time.Microsecond

// Limiter is the [storage.Limiter] shared by every instance of the app that
// uses the same Redis: GCRA (the generic cell rate algorithm, a token
// bucket kept as one timestamp per key) run atomically by a Lua script of
// github.com/go-redis/redis_rate. It is safe for concurrent use.
//
// Each limiter key is one Redis key, "rate:" + prefix + key (the library
// adds "rate:"), holding a float timestamp with a TTL that ends when the
// bucket has refilled, so Redis reclaims idle keys and the Limiter needs no
// janitor. Each call is one script on one key, so it works unchanged on a
// single node, Sentinel and Redis Cluster. Time is Redis's own (TIME), the
// same for every instance; clocks of the app's hosts do not matter.
//
// Rates map onto the library as follows. For Rate{Burst: b, Every: e} the
// script runs with a burst of 2b-1 cells of e each: the first b of them
// are the failures the contract allows, the other b-1 record failures
// beyond that, so that each one lengthens the wait, up to b*e; a failure
// beyond that cap is not recorded. The wait Fail and Throttled report is
// the time until one more failure fits in the first b cells: the
// library's ResetAfter minus (b-1)*e. Throttled runs the script with a
// cost of 0, which counts nothing.
type Limiter struct {
	rl     *redis_rate.Limiter
	client goredis.UniversalClient
	prefix string
}

// NewLimiter returns a Limiter on client, which may be a *goredis.Client
// (single node), a Sentinel failover client or a *goredis.ClusterClient;
// the caller owns client and closes it after the last use of the Limiter.
// prefix starts every limiter key, after the library's "rate:"; empty
// means [DefaultLimiterPrefix]. Instances that must share counts use the
// same prefix.
func NewLimiter(client goredis.UniversalClient, prefix string) *Limiter {
	if prefix == "" {
		prefix = DefaultLimiterPrefix
	}
	return &Limiter{rl: redis_rate.NewLimiter(client), client: client, prefix: prefix}
}

// Throttled implements [storage.Limiter]. It counts nothing: it runs the
// GCRA script with a cost of zero, which only reads the key (and rewrites
// it unchanged). An error is an outage of Redis or a cancelled ctx.
func (l *Limiter) Throttled(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	return l.run(ctx, key, r, 0)
}

// Fail implements [storage.Limiter]. A failure that would make the wait
// exceed r.Burst*r.Every is not counted: the wait stays at that cap. An
// error is an outage of Redis or a cancelled ctx; the failure may or may
// not have been counted.
func (l *Limiter) Fail(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	return l.run(ctx, key, r, 1)
}

// Reserve implements [storage.Limiter]: it runs the GCRA script with a
// burst of r.Burst cells and a cost of 1, which records the failure only
// when it fits in the first r.Burst cells, atomically. An error is an
// outage of Redis or a cancelled ctx; the failure may or may not have
// been counted.
func (l *Limiter) Reserve(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	if err := checkLimiterRate(r); err != nil {
		return 0, err
	}
	lim := redis_rate.Limit{Rate: 1, Period: r.Every, Burst: r.Burst}
	res, err := l.rl.AllowN(ctx, l.prefix+key, lim, 1)
	if err != nil {
		return 0, fmt.Errorf("redis: limiter: %w", err)
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	// Refused: counted nothing, so never report it as reserved, however
	// close to allowed the clock arithmetic put it.
	return min(max(res.RetryAfter, limiterNoise), time.Duration(r.Burst)*r.Every), nil
}

// refundScript takes one cell (period seconds) off a GCRA key kept by
// github.com/go-redis/redis_rate: its value is the theoretical arrival
// time in seconds since 2017-01-01 by Redis's TIME, with a TTL that ends
// when it is reached. A key that the refund empties is deleted.
var refundScript = goredis.NewScript(`
redis.replicate_commands()
local tat = tonumber(redis.call("GET", KEYS[1]))
if not tat then return 0 end
local t = redis.call("TIME")
local now = (t[1] - 1483228800) + (t[2] / 1000000)
local left = tat - tonumber(ARGV[1]) - now
if left <= 0 then
  redis.call("DEL", KEYS[1])
else
  redis.call("SET", KEYS[1], tat - tonumber(ARGV[1]), "EX", math.ceil(left))
end
return 1
`)

// Refund implements [storage.Limiter]: one script on the key takes one
// failure's cell off its GCRA timestamp. An error is an outage of Redis
// or a cancelled ctx; the refund may or may not have been made.
func (l *Limiter) Refund(ctx context.Context, key string, r storage.Rate) error {
	if err := checkLimiterRate(r); err != nil {
		return err
	}
	// The library keeps its keys under "rate:".
	if err := refundScript.Run(ctx, l.client, []string{"rate:" + l.prefix + key}, r.Every.Seconds()).Err(); err != nil {
		return fmt.Errorf("redis: limiter: %w", err)
	}
	return nil
}

// run runs the GCRA script at cost n and maps its result to the wait.
func (l *Limiter) run(ctx context.Context, key string, r storage.Rate, n int) (time.Duration, error) {
	if err := checkLimiterRate(r); err != nil {
		return 0, err
	}
	lim := redis_rate.Limit{Rate: 1, Period: r.Every, Burst: 2*r.Burst - 1}
	res, err := l.rl.AllowN(ctx, l.prefix+key, lim, n)
	if err != nil {
		// The error names neither the key nor the rate's values.
		return 0, fmt.Errorf("redis: limiter: %w", err)
	}
	// Whether or not the script allowed (recorded) this cost, ResetAfter
	// is the time until the bucket is full: tat-now. One more failure
	// fits once at most b-1 cells remain taken.
	wait := res.ResetAfter - time.Duration(r.Burst-1)*r.Every
	if wait < limiterNoise {
		return 0, nil
	}
	return min(wait, time.Duration(r.Burst)*r.Every), nil
}

// checkLimiterRate refuses a Rate that cannot throttle: ignoring it would
// silently disable throttling.
func checkLimiterRate(r storage.Rate) error {
	if r.Burst < 1 || r.Every <= 0 {
		return fmt.Errorf("redis: limiter: invalid rate (Burst %d, Every %s): both must be positive", r.Burst, r.Every)
	}
	if r.Burst > math.MaxInt32 || 2*float64(r.Burst)*float64(r.Every) >= math.MaxInt64 {
		return fmt.Errorf("redis: limiter: rate too large (Burst %d, Every %s)", r.Burst, r.Every)
	}
	return nil
}
