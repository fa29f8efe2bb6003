package provider_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/testenv"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	redisstore "github.com/oauth2provider/oauth2provider/storage/redis"
)

const throttledBody = "{\"error\":\"slow_down\",\"error_description\":\"too many failed attempts, try again later\"}\n"

// assertThrottled checks a 429 answer: slow_down JSON, no-store, and
// Retry-After in whole seconds.
func assertThrottled(t *testing.T, w *httptest.ResponseRecorder, retryAfter string) {
	t.Helper()
	assert.Equal(t, http.StatusTooManyRequests, w.Code, "body: %s", w.Body.String())
	assertNoStore(t, w)
	assert.Equal(t, throttledBody, w.Body.String())
	assert.Equal(t, retryAfter, w.Header().Get("Retry-After"))
}

// wrongPassword is a password grant of johndoe with a wrong password.
func wrongPassword(kv ...string) url.Values {
	return password(append([]string{"password", "nope"}, kv...)...)
}

func TestThrottlePasswordPerUserAndIP(t *testing.T) {
	e := newEnv(t, nil)
	for range provider.DefaultUserRate.Burst {
		assertError(t, e.do(req{form: wrongPassword(), basic: conf}), 400, "invalid_grant")
	}
	t.Run("RFC 6749 §4.3.2: over the limit even the right password is refused with 429 and Retry-After", func(t *testing.T) {
		assertThrottled(t, e.do(req{form: password(), basic: conf}), "60")
	})
	t.Run("the user is not locked out from another IP", func(t *testing.T) {
		assertToken(t, e.do(req{form: password(), basic: conf, remoteAddr: "198.51.100.7:4000"}))
	})
	t.Run("the IP is not locked out for another user", func(t *testing.T) {
		// Only the per-(username, IP) key is throttled; alice is just wrong.
		w := e.do(req{form: password("username", "alice", "password", "x"), basic: conf})
		assertError(t, w, 400, "invalid_grant")
	})
	t.Run("changing the username's case buys no fresh budget", func(t *testing.T) {
		assertThrottled(t, e.do(req{form: password("username", "JohnDoe"), basic: conf}), "60")
	})
	t.Run("a slot frees after Every", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		assertToken(t, e.do(req{form: password(), basic: conf}))
		// A success counts nothing; a failure uses the slot again.
		assertError(t, e.do(req{form: wrongPassword(), basic: conf}), 400, "invalid_grant")
		assertThrottled(t, e.do(req{form: password(), basic: conf}), "60")
	})
}

func TestThrottlePasswordPerIP(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) {
		c.IPRate = storage.Rate{Burst: 3, Every: 10 * time.Second}
	})
	for _, u := range []string{"a", "b", "c"} {
		assertError(t, e.do(req{form: password("username", u, "password", "x"), basic: conf}), 400, "invalid_grant")
	}
	t.Run("password spraying from one IP is throttled whatever the username", func(t *testing.T) {
		assertThrottled(t, e.do(req{form: password("username", "d", "password", "x"), basic: conf}), "10")
		assertThrottled(t, e.do(req{form: password(), basic: conf}), "10")
	})
	t.Run("another IP is not affected", func(t *testing.T) {
		assertToken(t, e.do(req{form: password(), basic: conf, remoteAddr: "198.51.100.7:4000"}))
	})
	t.Run("an IPv6 /64 is one address", func(t *testing.T) {
		for _, a := range []string{"[2001:db8:1:2::1]:1", "[2001:db8:1:2::2]:1", "[2001:db8:1:2:ffff::3]:1"} {
			assertError(t, e.do(req{form: password("username", "x", "password", "x"), basic: conf, remoteAddr: a}), 400, "invalid_grant")
		}
		assertThrottled(t, e.do(req{form: password(), basic: conf, remoteAddr: "[2001:db8:1:2::9]:1"}), "10")
		assertToken(t, e.do(req{form: password(), basic: conf, remoteAddr: "[2001:db8:1:3::1]:1"}))
	})
}

func TestThrottleForwardedFor(t *testing.T) {
	xff := func(v string) http.Header { return http.Header{"X-Forwarded-For": {v}} }
	t.Run("X-Forwarded-For from an untrusted peer is ignored", func(t *testing.T) {
		e := newEnv(t, nil)
		for i := range provider.DefaultUserRate.Burst {
			w := e.do(req{form: wrongPassword(), basic: conf, header: xff("203.0.113." + strconv.Itoa(i))})
			assertError(t, w, 400, "invalid_grant")
		}
		assertThrottled(t, e.do(req{form: password(), basic: conf, header: xff("203.0.113.99")}), "60")
	})
	t.Run("X-Forwarded-For from a trusted proxy names the client", func(t *testing.T) {
		e := newEnv(t, func(c *provider.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} })
		const proxy = "10.1.2.3:5555"
		for range provider.DefaultUserRate.Burst {
			w := e.do(req{form: wrongPassword(), basic: conf, remoteAddr: proxy, header: xff("203.0.113.1")})
			assertError(t, w, 400, "invalid_grant")
		}
		assertThrottled(t, e.do(req{form: password(), basic: conf, remoteAddr: proxy, header: xff("203.0.113.1")}), "60")
		assertToken(t, e.do(req{form: password(), basic: conf, remoteAddr: proxy, header: xff("203.0.113.2")}))
	})
}

func TestThrottleRetryAfterRoundsUp(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.UserRate = storage.Rate{Burst: 1, Every: 1500 * time.Millisecond} })
	assertError(t, e.do(req{form: wrongPassword(), basic: conf}), 400, "invalid_grant")
	assertThrottled(t, e.do(req{form: password(), basic: conf}), "2")
	e.clock.Advance(1400 * time.Millisecond)
	assertThrottled(t, e.do(req{form: password(), basic: conf}), "1")
	e.clock.Advance(100 * time.Millisecond)
	assertToken(t, e.do(req{form: password(), basic: conf}))
}

func TestThrottleClientSecrets(t *testing.T) {
	e := newEnv(t, nil)
	for range provider.DefaultClientRate.Burst {
		assertError(t, e.do(req{form: password(), basic: []string{"human", "wrong"}}), 401, "invalid_client")
	}
	t.Run("over the limit the right secret is refused with 429", func(t *testing.T) {
		w := e.do(req{form: password(), basic: human})
		assertThrottled(t, w, "60")
		assert.Empty(t, w.Header().Get("WWW-Authenticate"))
		assertThrottled(t, call(e.p.RevokeHandler(), req{form: tokenForm("x"), basic: human}), "60")
		assertThrottled(t, call(e.p.IntrospectHandler(), req{form: tokenForm("x"), basic: human}), "60")
	})
	t.Run("another client from the same IP is not affected", func(t *testing.T) {
		assertToken(t, e.do(req{form: password(), basic: conf}))
		// One whose secret a person chose too, counted under its own ID.
		assertToken(t, e.do(req{form: password(), basic: []string{"human2", humanSecret}}))
	})
	t.Run("the client is not locked out from another IP", func(t *testing.T) {
		assertToken(t, e.do(req{form: password(), basic: human, remoteAddr: "198.51.100.7:4000"}))
	})
	t.Run("an unknown client has no secret to guess: never throttled, like a generated secret", func(t *testing.T) {
		for range 2 * provider.DefaultClientRate.Burst {
			assertError(t, e.do(req{form: password("client_id", "nobody", "client_secret", "x")}), 401, "invalid_client")
			assertError(t, e.do(req{form: password(), basic: []string{"conf", "x"}}), 401, "invalid_client")
		}
	})
	t.Run("a public client has no secret to guess: a secret presented for it is never throttled", func(t *testing.T) {
		for range 2 * provider.DefaultClientRate.Burst {
			assertError(t, e.do(req{form: password("client_id", "pub", "client_secret", "x")}), 401, "invalid_client")
		}
	})
}

func TestThrottleClientSecretsPerIP(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) {
		c.IPRate = storage.Rate{Burst: 3, Every: 10 * time.Second}
	})
	for _, id := range []string{"human", "human2", "human"} {
		assertError(t, e.do(req{form: password(), basic: []string{id, "wrong"}}), 401, "invalid_client")
	}
	t.Run("guessing secrets across client IDs from one IP is throttled", func(t *testing.T) {
		assertThrottled(t, e.do(req{form: password(), basic: []string{"human2", "wrong"}}), "10")
		assertThrottled(t, e.do(req{form: password(), basic: human}), "10")
	})
	t.Run("another IP is not affected", func(t *testing.T) {
		assertToken(t, e.do(req{form: password(), basic: human, remoteAddr: "198.51.100.7:4000"}))
	})
}

// TestGeneratedSecretsAreNotThrottled: 256 random bits cannot be guessed,
// so a client with a generated secret never waits for the limiter, nor
// calls it (here it is down), and failures at it are reported but not
// counted.
func TestGeneratedSecretsAreNotThrottled(t *testing.T) {
	down := errors.New("dial tcp: connection refused")
	e := newEnv(t, func(c *provider.Config) { c.Limiter = brokenLimiter{reserveErr: down, throttledErr: down} })
	cc := url.Values{"grant_type": {"client_credentials"}}
	for range provider.DefaultClientRate.Burst + 1 {
		assertError(t, call(e.h, req{form: cc, basic: []string{"conf", otherSecret}}), 401, "invalid_client")
	}
	assertToken(t, call(e.h, req{form: cc, basic: conf}))
	assertError(t, call(e.h, req{form: cc, basic: human}), 503, "temporarily_unavailable")
}

func TestThrottleDisabled(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.DisableThrottling = true })
	for range 3 * provider.DefaultUserRate.Burst {
		assertError(t, e.do(req{form: wrongPassword(), basic: conf}), 400, "invalid_grant")
	}
	e.issue(t)
}

// brokenLimiter is a limiter whose backend is down: Reserve fails with
// reserveErr, Throttled and Fail with throttledErr; Refund works.
type brokenLimiter struct{ reserveErr, throttledErr error }

func (b brokenLimiter) Throttled(context.Context, string, storage.Rate) (time.Duration, error) {
	return 0, b.throttledErr
}

func (b brokenLimiter) Fail(context.Context, string, storage.Rate) (time.Duration, error) {
	return 0, b.throttledErr
}

func (b brokenLimiter) Reserve(context.Context, string, storage.Rate) (time.Duration, error) {
	return 0, b.reserveErr
}

func (b brokenLimiter) Refund(context.Context, string, storage.Rate) error { return nil }

func TestThrottleLimiterOutageFailsClosed(t *testing.T) {
	down := errors.New("dial tcp: connection refused")
	t.Run("Reserve fails: 503, no token for the right password", func(t *testing.T) {
		e := newEnv(t, func(c *provider.Config) { c.Limiter = brokenLimiter{reserveErr: down} })
		w := e.do(req{form: password(), basic: conf})
		assertError(t, w, 503, "temporarily_unavailable")
		assert.NotContains(t, w.Body.String(), "refused")
	})
	t.Run("reading the wait after a failure fails: 503", func(t *testing.T) {
		e := newEnv(t, func(c *provider.Config) { c.Limiter = brokenLimiter{throttledErr: down} })
		assertError(t, e.do(req{form: wrongPassword(), basic: conf}), 503, "temporarily_unavailable")
		assertError(t, e.do(req{form: password(), basic: []string{"human", "wrong"}}), 503, "temporarily_unavailable")
		e.issue(t) // a success is refunded, and needs no wait
	})
	t.Run("a BatchLimiter's ReserveAll fails, refusing no key: 503, no token", func(t *testing.T) {
		// As the Redis limiter answers an outage: refused -1 and the error.
		e := newEnv(t, func(c *provider.Config) { c.Limiter = brokenBatchLimiter{brokenLimiter{reserveErr: down}} })
		w := e.do(req{form: password(), basic: conf})
		assertError(t, w, 503, "temporarily_unavailable")
		assert.NotContains(t, w.Body.String(), "access_token")
	})
}

// brokenBatchLimiter is a brokenLimiter that is a storage.BatchLimiter,
// whose ReserveAll fails as the Redis limiter's does in an outage.
type brokenBatchLimiter struct{ brokenLimiter }

func (b brokenBatchLimiter) ReserveAll(context.Context, []storage.LimitKey) (int, time.Duration, error) {
	return -1, 0, b.reserveErr
}

func (b brokenBatchLimiter) RefundAll(context.Context, []storage.LimitKey) error { return nil }

func TestThrottleConfig(t *testing.T) {
	e := newEnv(t, nil)
	cfg := e.p.Config()
	assert.NotNil(t, cfg.Limiter, "throttling is on by default, with an in-memory limiter")
	assert.Equal(t, storage.Rate{Burst: 5, Every: time.Minute}, cfg.UserRate)
	assert.Equal(t, storage.Rate{Burst: 30, Every: 10 * time.Second}, cfg.IPRate)
	assert.Equal(t, storage.Rate{Burst: 10, Every: time.Minute}, cfg.ClientRate)
	for _, r := range []storage.Rate{{Burst: 1}, {Every: time.Second}, {Burst: -1, Every: time.Second}} {
		st := newTestStore(time.Now)
		_, err := provider.New(provider.Config{Clients: st, Tokens: st, UserRate: r})
		assert.Error(t, err, "%+v", r)
	}
}

// countingUsers counts the password checks that reach the user database.
// Each check takes delay, as a real password hash does, so that
// concurrent guesses overlap inside the check.
type countingUsers struct {
	n     atomic.Int64
	delay time.Duration
}

func (c *countingUsers) CheckAuth(ctx context.Context, username, password string) (string, error) {
	c.n.Add(1)
	time.Sleep(c.delay)
	return users.CheckAuth(ctx, username, password)
}

func TestThrottleConcurrentGuessing(t *testing.T) {
	// Many guesses at once from one IP: exactly Burst of them are judged
	// (reach the user database); all others are refused with 429.
	cu := &countingUsers{delay: 5 * time.Millisecond}
	e := newEnv(t, func(c *provider.Config) { c.Users = cu })
	const guesses = 40
	var wg sync.WaitGroup
	codes := make([]int, guesses)
	for i := range guesses {
		wg.Go(func() {
			codes[i] = e.do(req{form: wrongPassword(), basic: conf}).Code
		})
	}
	wg.Wait()
	judged, throttled := 0, 0
	for _, c := range codes {
		switch c {
		case 400:
			judged++
		case 429:
			throttled++
		}
	}
	assert.Equal(t, int64(provider.DefaultUserRate.Burst), cu.n.Load(), "password checks")
	assert.Equal(t, provider.DefaultUserRate.Burst, judged)
	assert.Equal(t, guesses-provider.DefaultUserRate.Burst, throttled)
}

func TestThrottleAuthenticateUserForLoginForms(t *testing.T) {
	e := newEnv(t, nil)
	r := httptest.NewRequest(http.MethodPost, "https://app.example/login", nil)
	for range provider.DefaultUserRate.Burst {
		_, err := e.p.AuthenticateUser(r, "johndoe", "nope")
		require.ErrorIs(t, err, provider.ErrInvalidCredentials)
		_, ok := provider.RetryAfter(err)
		assert.False(t, ok)
	}
	_, err := e.p.AuthenticateUser(r, "johndoe", "foobar42")
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, http.StatusTooManyRequests, pe.Status)
	assert.Equal(t, provider.CodeSlowDown, pe.Code)
	wait, ok := provider.RetryAfter(err)
	assert.True(t, ok)
	assert.Equal(t, time.Minute, wait)

	w := httptest.NewRecorder()
	provider.WriteError(w, err) // sets Retry-After itself
	assertThrottled(t, w, "60")

	w = httptest.NewRecorder()
	provider.SetRetryAfter(w.Header(), provider.ErrInvalidCredentials)
	assert.Empty(t, w.Header().Get("Retry-After"))

	secs, ok := provider.RetryAfterSeconds(err)
	assert.True(t, ok)
	assert.Equal(t, int64(60), secs, "the header's value")
	_, ok = provider.RetryAfterSeconds(provider.ErrInvalidCredentials)
	assert.False(t, ok)
}

func TestThrottleAttemptsAreNotSerialized(t *testing.T) {
	// "slow" is checked until its request ends; meanwhile a login from
	// the same IP, under the same per-IP key, is judged at once.
	e := newEnv(t, nil)
	slowCtx, stopSlow := context.WithCancel(context.Background())
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		done <- e.do(req{form: password("username", "slow"), basic: conf, ctx: slowCtx})
	}()
	for range 3 {
		e.issue(t)
	}
	stopSlow()
	assertError(t, <-done, 503, "temporarily_unavailable")
}

func TestThrottleConcurrentLoginsWaitRatherThanFail(t *testing.T) {
	// More right passwords at once than the budget allows: each holds a
	// reserved failure while it is checked, and those over the budget
	// wait for them to be refunded instead of answering 429.
	cu := &countingUsers{delay: 5 * time.Millisecond}
	e := newEnv(t, func(c *provider.Config) {
		c.Users = cu
		c.UserRate = storage.Rate{Burst: 2, Every: time.Minute}
	})
	const logins = 12
	codes := make([]int, logins)
	var wg sync.WaitGroup
	for i := range logins {
		wg.Go(func() { codes[i] = e.do(req{form: password(), basic: conf}).Code })
	}
	wg.Wait()
	for i, c := range codes {
		assert.Equal(t, http.StatusOK, c, "login %d", i)
	}
	assert.EqualValues(t, logins, cu.n.Load())
}

func TestThrottleSuccessIsRefunded(t *testing.T) {
	// With Burst 2, logins that succeed spend nothing: after any number
	// of them, two failures are still allowed before the third attempt is
	// refused.
	e := newEnv(t, func(c *provider.Config) { c.UserRate = storage.Rate{Burst: 2, Every: time.Minute} })
	for range 5 {
		e.issue(t)
	}
	assertError(t, e.do(req{form: wrongPassword(), basic: conf}), 400, "invalid_grant")
	assertError(t, e.do(req{form: wrongPassword(), basic: conf}), 400, "invalid_grant")
	assertThrottled(t, e.do(req{form: password(), basic: conf}), "60")
}

// redisLimiterTarget returns the options of the test Redis and a limiter
// key prefix no other test uses.
func redisLimiterTarget(t *testing.T) (*goredis.Options, string) {
	t.Helper()
	rawURL := testenv.Getenv(t, "OAUTH2_TEST_REDIS_URL", "set it to a Redis URL such as redis://127.0.0.1:6379/0 to run the shared Redis limiter test")
	opts, err := goredis.ParseURL(rawURL)
	require.NoError(t, err)
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	return opts, "oauth2test:throttle:" + hex.EncodeToString(nonce[:]) + ":"
}

// redisLimiterClient returns a client of the Redis at redisLimiterTarget
// and a key prefix of its own, whose limiter keys are deleted, and the
// client closed, when the test ends.
func redisLimiterClient(t *testing.T) (*goredis.Client, string) {
	t.Helper()
	opts, prefix := redisLimiterTarget(t)
	client := goredis.NewClient(opts)
	t.Cleanup(func() {
		keys, _ := client.Keys(context.Background(), "rate:"+prefix+"*").Result()
		if len(keys) > 0 {
			_ = client.Del(context.Background(), keys...).Err()
		}
		_ = client.Close()
	})
	return client, prefix
}

func TestThrottleSharedRedisLimiter(t *testing.T) {
	opts, prefix := redisLimiterTarget(t)

	// Two provider instances, each with its own client, share the counts.
	newInstance := func() *env {
		client := goredis.NewClient(opts)
		t.Cleanup(func() { _ = client.Close() })
		return newEnv(t, func(c *provider.Config) { c.Limiter = redisstore.NewLimiter(client, prefix) })
	}
	a, b := newInstance(), newInstance()
	t.Cleanup(func() {
		client := goredis.NewClient(opts)
		defer func() { _ = client.Close() }()
		keys, _ := client.Keys(context.Background(), "rate:"+prefix+"*").Result()
		if len(keys) > 0 {
			_ = client.Del(context.Background(), keys...).Err()
		}
	})

	for i := range provider.DefaultUserRate.Burst {
		inst := a
		if i%2 == 1 {
			inst = b
		}
		assertError(t, inst.do(req{form: wrongPassword(), basic: conf}), 400, "invalid_grant")
	}
	// Retry-After is Redis's arithmetic, about a minute.
	for _, inst := range []*env{a, b} {
		w := inst.do(req{form: password(), basic: conf})
		assert.Equal(t, http.StatusTooManyRequests, w.Code)
		assert.Equal(t, throttledBody, w.Body.String())
		assert.Contains(t, []string{"60", "59"}, w.Header().Get("Retry-After"))
	}
	assertToken(t, b.do(req{form: password(), basic: conf, remoteAddr: "198.51.100.7:4000"}))

	inspect := goredis.NewClient(opts)
	defer func() { _ = inspect.Close() }()
	keys, err := inspect.Keys(context.Background(), "rate:"+prefix+"*").Result()
	require.NoError(t, err)
	require.NotEmpty(t, keys)
	for _, k := range keys {
		assert.NotContains(t, k, "johndoe", "keys are hashed")
		assert.NotContains(t, k, "192.0.2.1")
	}
}

// Concurrent guessing split over two instances that share the Redis
// limiter: each guess reserves its failure in Redis atomically before it
// is judged, so exactly Burst guesses reach the user database.
func TestThrottleSharedRedisLimiterConcurrentGuessing(t *testing.T) {
	client, prefix := redisLimiterClient(t)
	cu := &countingUsers{delay: 5 * time.Millisecond}
	const instances = 2
	var envs [instances]*env
	for i := range envs {
		envs[i] = newEnv(t, func(c *provider.Config) {
			c.Users = cu
			c.Limiter = redisstore.NewLimiter(client, prefix)
		})
	}
	const guesses = 40
	codes := make([]int, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() { codes[i] = envs[i%instances].do(req{form: wrongPassword(), basic: conf}).Code })
	}
	wg.Wait()
	judged := 0
	for _, c := range codes {
		require.Contains(t, []int{400, 429}, c)
		if c == 400 {
			judged++
		}
	}
	assert.Equal(t, provider.DefaultUserRate.Burst, judged)
	assert.EqualValues(t, judged, cu.n.Load(), "only judged guesses reach the user database")
}

var _ authcheck.AuthChecker = (*countingUsers)(nil)

// ctxLimiter is an in-process limiter that answers as a networked one
// does once the caller's context is done: with its error.
type ctxLimiter struct{ storage.Limiter }

func (l ctxLimiter) Throttled(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return l.Limiter.Throttled(ctx, key, r)
}

func (l ctxLimiter) Reserve(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return l.Limiter.Reserve(ctx, key, r)
}

func (l ctxLimiter) Refund(ctx context.Context, key string, r storage.Rate) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.Limiter.Refund(ctx, key, r)
}

// A wrong password whose client hung up while it was checked (a password
// hash does not stop for a cancelled context) is counted, and so must be
// reported: on a networked limiter the wait read with the request's
// context failed, and the guess and the throttling it led to went
// unreported, though counted.
func TestThrottleFailureOfAGoneClientIsReported(t *testing.T) {
	var (
		mu     sync.Mutex
		events []provider.EventType
	)
	cancels := make(chan context.CancelFunc, 1)
	e := newEnv(t, func(c *provider.Config) {
		c.Limiter = ctxLimiter{memory.NewLimiter(memory.LimiterConfig{Now: c.Now})}
		c.Users = authcheck.Func(func(ctx context.Context, username, password string) (string, error) {
			(<-cancels)() // the client hangs up while its password is checked
			return "", authcheck.ErrInvalidCredentials
		})
		c.Events = func(_ context.Context, ev provider.Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, ev.Type)
		}
	})
	for range provider.DefaultUserRate.Burst {
		ctx, cancel := context.WithCancel(context.Background())
		cancels <- cancel
		e.do(req{form: wrongPassword(), basic: conf, ctx: ctx})
	}
	mu.Lock()
	defer mu.Unlock()
	want := make([]provider.EventType, 0, provider.DefaultUserRate.Burst+1)
	for range provider.DefaultUserRate.Burst {
		want = append(want, provider.EventUserAuthFailed)
	}
	want = append(want, provider.EventThrottled)
	assert.Equal(t, want, events, "every counted failure is reported, and the throttling it led to")
	// And counted: the next attempt, from a client that stays, waits.
	assertThrottled(t, e.do(req{form: password(), basic: conf}), "60")
}

// TestThrottleRetryAfterIsTheLongestWait: when both keys of an attempt
// must wait (the IP has failed as often as its budget allows, and so has
// the username from it), Retry-After is the longer wait, not that of the
// key the limiter happened to refuse first: a client that waits as told
// must not be refused again (RetryAfter: how long a request "must wait
// before it is tried again").
func TestThrottleRetryAfterIsTheLongestWait(t *testing.T) {
	check := func(t *testing.T, e *env) {
		for range provider.DefaultUserRate.Burst {
			assertError(t, e.do(req{form: wrongPassword(), basic: conf}), 400, "invalid_grant")
		}
		w := e.do(req{form: password(), basic: conf})
		assert.Equal(t, http.StatusTooManyRequests, w.Code, "body: %s", w.Body.String())
		ra, err := strconv.Atoi(w.Header().Get("Retry-After"))
		require.NoError(t, err)
		assert.GreaterOrEqual(t, ra, 59, "the per-(username, IP) key waits a minute; the per-IP key only 10 s")
	}
	ipRate := storage.Rate{Burst: provider.DefaultUserRate.Burst, Every: 10 * time.Second}
	t.Run("memory limiter", func(t *testing.T) {
		e := newEnv(t, func(c *provider.Config) { c.IPRate = ipRate })
		check(t, e)
		// Waiting as told is enough.
		e.clock.Advance(provider.DefaultUserRate.Every)
		assertToken(t, e.do(req{form: password(), basic: conf}))
	})
	t.Run("Redis limiter", func(t *testing.T) {
		client, prefix := redisLimiterClient(t)
		check(t, newEnv(t, func(c *provider.Config) {
			c.IPRate = ipRate
			c.Limiter = redisstore.NewLimiter(client, prefix)
		}))
	})
}
