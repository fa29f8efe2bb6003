package provider_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// callLimiter is a storage.Limiter over an in-process one that records
// the calls made to it, by name.
type callLimiter struct {
	l storage.Limiter

	mu    sync.Mutex
	calls []string
}

// record notes a call of name.
func (c *callLimiter) record(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, name)
}

// take returns the calls recorded since the last take.
func (c *callLimiter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}

func (c *callLimiter) Throttled(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	c.record("Throttled")
	return c.l.Throttled(ctx, key, r)
}

func (c *callLimiter) Fail(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	c.record("Fail")
	return c.l.Fail(ctx, key, r)
}

func (c *callLimiter) Reserve(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	c.record("Reserve")
	return c.l.Reserve(ctx, key, r)
}

func (c *callLimiter) Refund(ctx context.Context, key string, r storage.Rate) error {
	c.record("Refund")
	return c.l.Refund(ctx, key, r)
}

// batchLimiter is a callLimiter that is also a storage.BatchLimiter,
// which it implements with the in-process limiter's Reserve, Throttled
// and Refund (recording only the batch call).
type batchLimiter struct{ *callLimiter }

var _ storage.BatchLimiter = batchLimiter{}

func (b batchLimiter) ReserveAll(ctx context.Context, keys []storage.LimitKey) (int, time.Duration, error) {
	b.record(fmt.Sprintf("ReserveAll(%d keys)", len(keys)))
	for i, k := range keys {
		wait, err := b.l.Reserve(ctx, k.Key, k.Rate)
		if err != nil || wait > 0 {
			for _, k := range keys[:i] {
				_ = b.l.Refund(ctx, k.Key, k.Rate)
			}
			refused := i
			for j, k := range keys[i+1:] { // the longest wait is reported
				if d, _ := b.l.Throttled(ctx, k.Key, k.Rate); d > wait {
					refused, wait = i+1+j, d
				}
			}
			return refused, wait, err
		}
	}
	return -1, 0, nil
}

func (b batchLimiter) RefundAll(ctx context.Context, keys []storage.LimitKey) error {
	b.record(fmt.Sprintf("RefundAll(%d keys)", len(keys)))
	for _, k := range keys {
		if err := b.l.Refund(ctx, k.Key, k.Rate); err != nil {
			return err
		}
	}
	return nil
}

// The throttler reserves and refunds an attempt's two keys in one call
// each when the limiter is a storage.BatchLimiter, and key by key when it
// is not; throttling is the same either way.
func TestThrottleUsesBatchLimiter(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		batch                   bool
		success, failure, limit []string
		// limitFirst: the calls of an attempt refused by its first key.
		limitFirst []string
	}{
		{
			name:       "batch",
			batch:      true,
			success:    []string{"ReserveAll(2 keys)", "RefundAll(2 keys)"},
			failure:    []string{"ReserveAll(2 keys)", "Throttled", "Throttled"},
			limit:      []string{"ReserveAll(2 keys)"},
			limitFirst: []string{"ReserveAll(2 keys)"},
		},
		{
			name:    "per key",
			success: []string{"Reserve", "Reserve", "Refund", "Refund"},
			failure: []string{"Reserve", "Reserve", "Throttled", "Throttled"},
			// The per-IP key is reserved, then the user's refused, and
			// the first refunded.
			limit: []string{"Reserve", "Reserve", "Refund"},
			// The per-IP key refused; the user's, which it did not
			// reserve, is asked its wait for Retry-After.
			limitFirst: []string{"Reserve", "Throttled"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls *callLimiter
			e := newEnv(t, func(c *provider.Config) {
				calls = &callLimiter{l: memory.NewLimiter(memory.LimiterConfig{Now: c.Now})}
				c.Limiter = calls
				if tc.batch {
					c.Limiter = batchLimiter{calls}
				}
				c.UserRate = storage.Rate{Burst: 2, Every: time.Minute}
				c.IPRate = storage.Rate{Burst: 5, Every: 10 * time.Second}
			})
			_, isBatch := e.p.Config().Limiter.(storage.BatchLimiter)
			require.Equal(t, tc.batch, isBatch)

			for range 3 {
				e.issue(t)
				assert.Equal(t, tc.success, calls.take(), "a successful password grant")
			}
			for range 2 {
				assertError(t, e.do(req{form: wrongPassword(), basic: conf}), 400, "invalid_grant")
				assert.Equal(t, tc.failure, calls.take(), "a wrong password")
			}
			assertThrottled(t, e.do(req{form: password(), basic: conf}), "60")
			assert.Equal(t, tc.limit, calls.take(), "a refused attempt")

			// The refused attempt left nothing counted under the per-IP
			// key: other users from the same address have the rest of
			// its burst of 5, three failures after the two above.
			for _, u := range []string{"a", "b", "c"} {
				w := e.do(req{form: password("username", u, "password", "x"), basic: conf})
				assertError(t, w, 400, "invalid_grant")
			}
			calls.take()
			assertThrottled(t, e.do(req{form: password("username", "d", "password", "x"), basic: conf}), "10")
			assert.Equal(t, tc.limitFirst, calls.take(), "refused by the first key")

			// The user is not locked out from another address.
			assertToken(t, e.do(req{form: password(), basic: conf, remoteAddr: "198.51.100.7:4000"}))
		})
	}
}
