package redis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauth2provider/oauth2provider/storage"
)

var (
	_ storage.Limiter      = (*Limiter)(nil)
	_ storage.BatchLimiter = (*Limiter)(nil)
)

// DefaultLimiterPrefix is the key prefix a [Limiter] uses when
// [NewLimiter] is given an empty one.
const DefaultLimiterPrefix = "oauth2:limit:"

// limiterNoise is the size of a wait that Redis's floating-point clock
// arithmetic can produce where the exact answer is zero; a wait below it
// is zero. Redis's TIME has microsecond resolution anyway.
const limiterNoise = time.Microsecond

// Limiter is the [storage.Limiter] shared by every instance of the app that
// uses the same Redis: GCRA (the generic cell rate algorithm, a token
// bucket kept as one timestamp per key) run atomically by a Lua script.
// It is safe for concurrent use. It is a [storage.BatchLimiter]: the
// provider reserves and refunds an attempt's two keys in one round trip
// each (one pipeline; on a cluster, one per node, sent concurrently).
//
// Each limiter key is one Redis key, "rate:" + prefix + key, holding its
// theoretical arrival time (TAT): a float number of seconds since
// 2017-01-01 00:00:00 UTC by Redis's TIME, with a TTL that ends when the
// bucket has refilled (the TAT is reached), so Redis reclaims idle keys
// and the Limiter needs no janitor. Each call is one script on one key, so
// it works unchanged on a single node, Sentinel and Redis Cluster. Time is
// Redis's own (TIME), the same for every instance; clocks of the app's
// hosts do not matter. (This is the layout of
// github.com/go-redis/redis_rate, which earlier versions used: keys it
// wrote keep counting across an upgrade.)
//
// For Rate{Burst: b, Every: e} a failure is a cell of e seconds. Reserve
// runs the script with a bucket of b cells and a cost of 1: the failure
// is recorded only when it fits. Fail and Throttled run it with a bucket
// of 2b-1 cells and a cost of 1 or 0: the first b cells are the failures
// the contract allows, the other b-1 record failures beyond that, so that
// each one lengthens the wait, up to b*e; a failure beyond that cap is
// not recorded. The wait they report is the time until one more failure
// fits in the first b cells: the time until the bucket is full (TAT minus
// now) less (b-1)*e.
//
// go-redis sends a command again when its connection fails before the
// reply arrives (Options.MaxRetries, 3 by default), and a script that ran
// before the connection failed runs twice: a Reserve or Fail then counts
// its failure twice and a Refund gives two back (never more than a full
// bucket). The error is at most one failure per lost reply, in either
// direction, which throttling tolerates; a client with MaxRetries -1
// sends nothing twice, and answers such a call with an error (503).
type Limiter struct {
	client goredis.UniversalClient
	prefix string
}

// NewLimiter returns a Limiter on client, which may be a *goredis.Client
// (single node), a Sentinel failover client or a *goredis.ClusterClient;
// the caller owns client and closes it after the last use of the Limiter.
// prefix starts every limiter key, after "rate:"; empty means
// [DefaultLimiterPrefix]. Instances that must share counts use the same
// prefix.
func NewLimiter(client goredis.UniversalClient, prefix string) *Limiter {
	if prefix == "" {
		prefix = DefaultLimiterPrefix
	}
	return &Limiter{client: client, prefix: prefix}
}

// limiterEpoch is 2017-01-01 00:00:00 UTC in Unix seconds, the origin of
// the stored TATs.
const limiterEpoch = 1483228800

// luaLimiterNow sets now to Redis's TIME in seconds since limiterEpoch,
// the clock of the limiter's scripts.
var luaLimiterNow = `local t = redis.call('TIME')
local now = (t[1] - ` + strconv.Itoa(limiterEpoch) + `) + (t[2] / 1000000)`

// gcraScript runs GCRA on one key: it adds cost cells to the key's TAT if
// they fit in the bucket, atomically.
// KEYS: the key. ARGV: a cell's length in seconds (e), the bucket's size in
// cells, the cost in cells (0 only reads).
// The TAT is at least now (a key that does not exist, or whose TAT has
// passed, has a full bucket). The cost fits when the new TAT, TAT + cost*e,
// is at most size*e ahead of now. Returns {1, "0", full} when it fitted
// and was recorded, {0, wait, full} when it did not (nothing is written),
// where wait is how long until it would fit and full how long until the
// bucket is full after the call (the TAT less now), both in seconds.
// A key is written only while its TAT is ahead of now, with a TTL ending
// (rounded up to a second) when it is reached.
var gcraScript = newScript(`
redis.replicate_commands()
local e = tonumber(ARGV[1])
local size = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
` + luaLimiterNow + `
local tat = now
local v = redis.call('GET', KEYS[1])
if v then
  tat = math.max(tonumber(v), now)
end
local newtat = tat + cost * e
local wait = newtat - size * e - now
if wait > 1e-6 then -- below a microsecond: float noise (see limiterNoise)
  return {0, tostring(wait), tostring(tat - now)}
end
local full = newtat - now
if full > 0 then
  redis.call('SET', KEYS[1], newtat, 'EX', math.ceil(full))
end
return {1, '0', tostring(full)}
`)

// refundScript takes one cell (ARGV[1], in seconds) off a GCRA key's TAT
// (see gcraScript), never below now: a key that the refund empties is
// deleted, else its TTL is set to end at its new TAT. Returns 1 when the
// key existed, else 0.
var refundScript = newScript(`
redis.replicate_commands()
local tat = tonumber(redis.call("GET", KEYS[1]))
if not tat then return 0 end
` + luaLimiterNow + `
local left = tat - tonumber(ARGV[1]) - now
if left <= 0 then
  redis.call("DEL", KEYS[1])
else
  redis.call("SET", KEYS[1], tat - tonumber(ARGV[1]), "EX", math.ceil(left))
end
return 1
`)

// gcraResult is a reply of gcraScript: whether the cost fitted, the wait
// until it would and the time until the bucket is full.
type gcraResult struct {
	ok         bool
	wait, full time.Duration
}

// parseGCRA reads a reply of gcraScript.
func parseGCRA(cmd *goredis.Cmd) (gcraResult, error) {
	v, err := cmd.Slice()
	if err != nil {
		return gcraResult{}, err
	}
	if len(v) != 3 {
		return gcraResult{}, errors.New("unexpected reply of the GCRA script")
	}
	ok, okType := v[0].(int64)
	wait, waitErr := replySeconds(v[1])
	full, fullErr := replySeconds(v[2])
	if !okType || waitErr != nil || fullErr != nil {
		return gcraResult{}, errors.New("unexpected reply of the GCRA script")
	}
	return gcraResult{ok: ok == 1, wait: wait, full: full}, nil
}

// replySeconds reads a number of seconds that a script returned as a
// string. NaN, an infinity or a number beyond what a Duration holds is an
// error: Go converts such a float to an implementation-dependent integer
// (math.MinInt64 on amd64), which the callers' arithmetic would wrap.
func replySeconds(v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, errors.New("not a string")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	ns := f * float64(time.Second)
	if !(ns >= math.MinInt64 && ns < math.MaxInt64) { // NaN fails both
		return 0, errors.New("seconds out of range")
	}
	return time.Duration(ns), nil
}

// gcraArgs are the keys and arguments of gcraScript on key at cost n in
// a bucket of size cells of r.Every.
func (l *Limiter) gcraArgs(key string, r storage.Rate, size, n int) []string {
	return []string{
		l.redisKey(key),
		cellSeconds(r),
		strconv.Itoa(size),
		strconv.Itoa(n),
	}
}

// refundArgs are the keys and arguments of refundScript taking one
// failure of r off key.
func (l *Limiter) refundArgs(key string, r storage.Rate) []string {
	return []string{l.redisKey(key), cellSeconds(r)}
}

// redisKey is the Redis key of limiter key key.
func (l *Limiter) redisKey(key string) string { return "rate:" + l.prefix + key }

// cellSeconds is one failure's cell of r, in seconds, as the scripts take
// it.
func cellSeconds(r storage.Rate) string {
	return strconv.FormatFloat(r.Every.Seconds(), 'f', -1, 64)
}

// limiterError wraps an error of Redis or of a reply. It names neither
// the key nor the rate's values.
func limiterError(err error) error {
	return fmt.Errorf("redis: limiter: %w", err)
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
// bucket of r.Burst cells and a cost of 1, which records the failure only
// when it fits, atomically. An error is an outage of Redis or a cancelled
// ctx; the failure may or may not have been counted.
func (l *Limiter) Reserve(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	r, err := limiterRate(r)
	if err != nil {
		return 0, err
	}
	res, err := parseGCRA(gcraScript.run(ctx, l.client, 1, l.gcraArgs(key, r, r.Burst, 1)))
	if err != nil {
		return 0, limiterError(err)
	}
	return reserveWait(res, r), nil
}

// reserveWait is the wait of a reservation: zero when it was recorded.
func reserveWait(res gcraResult, r storage.Rate) time.Duration {
	if res.ok {
		return 0
	}
	// Refused: counted nothing, so never report it as reserved, however
	// close to allowed the clock arithmetic put it.
	return min(max(res.wait, limiterNoise), time.Duration(r.Burst)*r.Every)
}

// Refund implements [storage.Limiter]: one script on the key takes one
// failure's cell off its TAT. An error is an outage of Redis or a
// cancelled ctx; the refund may or may not have been made.
func (l *Limiter) Refund(ctx context.Context, key string, r storage.Rate) error {
	r, err := limiterRate(r)
	if err != nil {
		return err
	}
	if err := refundScript.run(ctx, l.client, 1, l.refundArgs(key, r)).Err(); err != nil {
		return limiterError(err)
	}
	return nil
}

// undoTimeout bounds ReserveAll's taking back of what a refused attempt
// reserved, which goes on after the caller's context ends.
const undoTimeout = 5 * time.Second

// ReserveAll implements [storage.BatchLimiter]: Reserve's script on every
// key, in one pipeline (one round trip; on a cluster, whose keys may lie
// on different nodes, one per node, sent concurrently). When a key is
// refused, the refunds of the keys that were reserved are a second
// pipeline; it is made even if ctx is cancelled by then. An error is an
// outage of Redis, a cancelled ctx or an invalid Rate (then nothing is
// sent); failures may or may not have been counted (those the replies
// show reserved are refunded, as after a refusal).
func (l *Limiter) ReserveAll(ctx context.Context, keys []storage.LimitKey) (refused int, retryAfter time.Duration, err error) {
	rates, err := limiterRates(keys)
	if err != nil || len(keys) == 0 {
		return -1, 0, err
	}
	calls := make([]scriptCall, len(keys))
	for i, k := range keys {
		calls[i] = gcraScript.call(1, l.gcraArgs(k.Key, rates[i], rates[i].Burst, 1))
	}
	cmds, perr := runPipelined(ctx, l.client, calls...)
	refused = -1
	var undo []scriptCall
	for i, cmd := range cmds {
		res, err := parseGCRA(cmd)
		switch {
		case err != nil:
			if perr == nil {
				perr = err
			}
		case res.ok:
			undo = append(undo, refundScript.call(1, l.refundArgs(keys[i].Key, rates[i])))
		default: // refused: report the longest wait
			if w := reserveWait(res, rates[i]); refused < 0 || w > retryAfter {
				refused, retryAfter = i, w
			}
		}
	}
	if perr == nil && refused < 0 {
		return -1, 0, nil
	}
	// Refused, or a partial outage: take back what was reserved, so that
	// a refused attempt leaves nothing counted.
	if len(undo) > 0 {
		// Even if the caller has gone, but not for ever.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
		_, err := runPipelined(uctx, l.client, undo...)
		cancel()
		if err != nil && perr == nil {
			perr = err
		}
	}
	if perr != nil {
		return refused, 0, limiterError(perr)
	}
	return refused, retryAfter, nil
}

// RefundAll implements [storage.BatchLimiter]: Refund's script on every
// key, in one pipeline. An error is an outage of Redis, a cancelled ctx
// or an invalid Rate (then nothing is sent); the refunds may or may not
// have been made.
func (l *Limiter) RefundAll(ctx context.Context, keys []storage.LimitKey) error {
	rates, err := limiterRates(keys)
	if err != nil || len(keys) == 0 {
		return err
	}
	calls := make([]scriptCall, len(keys))
	for i, k := range keys {
		calls[i] = refundScript.call(1, l.refundArgs(k.Key, rates[i]))
	}
	if _, err := runPipelined(ctx, l.client, calls...); err != nil {
		return limiterError(err)
	}
	return nil
}

// run runs the GCRA script at cost n in a bucket of 2*r.Burst-1 cells and
// maps its result to the wait.
func (l *Limiter) run(ctx context.Context, key string, r storage.Rate, n int) (time.Duration, error) {
	r, err := limiterRate(r)
	if err != nil {
		return 0, err
	}
	res, err := parseGCRA(gcraScript.run(ctx, l.client, 1, l.gcraArgs(key, r, 2*r.Burst-1, n)))
	if err != nil {
		return 0, limiterError(err)
	}
	// Whether or not the script recorded this cost, full is the time
	// until the bucket is full: TAT-now. One more failure fits once at
	// most b-1 cells remain taken.
	wait := res.full - time.Duration(r.Burst-1)*r.Every
	if wait < limiterNoise {
		return 0, nil
	}
	return min(wait, time.Duration(r.Burst)*r.Every), nil
}

// limiterRates is limiterRate of every key's Rate.
func limiterRates(keys []storage.LimitKey) ([]storage.Rate, error) {
	rates := make([]storage.Rate, len(keys))
	for i, k := range keys {
		r, err := limiterRate(k.Rate)
		if err != nil {
			return nil, err
		}
		rates[i] = r
	}
	return rates, nil
}

// limiterRate refuses a Rate that cannot throttle (ignoring it would
// silently disable throttling), and returns a valid one bounded
// (boundRate), the rate every script is given.
func limiterRate(r storage.Rate) (storage.Rate, error) {
	if r.Burst < 1 || r.Every <= 0 {
		return r, fmt.Errorf("redis: limiter: invalid rate (Burst %d, Every %s): both must be positive", r.Burst, r.Every)
	}
	return boundRate(r), nil
}

// maxSpan bounds Burst*Every, about 9 years (the memory Limiter's bound
// is 73): a longer lock-out is as good as forever, and the bound keeps
// the error of the scripts' floating-point seconds, on TATs up to twice
// that span ahead, well under limiterNoise.
const maxSpan = time.Duration(1) << 58

// boundRate returns a valid r with its Burst at most MaxInt32 and then
// its Every lowered so that Burst*Every is at most maxSpan.
func boundRate(r storage.Rate) storage.Rate {
	r.Burst = min(r.Burst, math.MaxInt32)
	r.Every = min(r.Every, maxSpan/time.Duration(r.Burst))
	return r
}
