package oauthotel_test

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// fakeBatchLimiter is an in-process limiter that is also a
// storage.BatchLimiter, as the Redis one is, counting its batch calls.
type fakeBatchLimiter struct {
	*memory.Limiter
	reserveAlls, refundAlls atomic.Int64
}

func (f *fakeBatchLimiter) ReserveAll(ctx context.Context, keys []storage.LimitKey) (int, time.Duration, error) {
	f.reserveAlls.Add(1)
	for i, k := range keys {
		wait, err := f.Reserve(ctx, k.Key, k.Rate)
		if err != nil || wait > 0 {
			for _, k := range keys[:i] {
				_ = f.Refund(ctx, k.Key, k.Rate)
			}
			return i, wait, err
		}
	}
	return -1, 0, nil
}

func (f *fakeBatchLimiter) RefundAll(ctx context.Context, keys []storage.LimitKey) error {
	f.refundAlls.Add(1)
	for _, k := range keys {
		if err := f.Refund(ctx, k.Key, k.Rate); err != nil {
			return err
		}
	}
	return nil
}

// The wrapper of a BatchLimiter is one, and the wrapper of any other
// Limiter is not: the provider must keep reserving an attempt's keys in
// one call (one round trip on Redis) through the instrumentation, and
// must not be told a plain limiter can.
func TestLimiterKeepsBatchLimiter(t *testing.T) {
	in, err := oauthotel.New(oauthotel.Config{})
	require.NoError(t, err)
	_, isBatch := in.Limiter("memory", memory.NewLimiter(memory.LimiterConfig{})).(storage.BatchLimiter)
	assert.False(t, isBatch, "the wrapper of a plain Limiter is no BatchLimiter")
	_, isBatch = in.Limiter("redis", &fakeBatchLimiter{Limiter: memory.NewLimiter(memory.LimiterConfig{})}).(storage.BatchLimiter)
	assert.True(t, isBatch, "the wrapper of a BatchLimiter is a BatchLimiter")
}

// Through the provider, a password grant on a wrapped BatchLimiter makes
// one ReserveAll and, when it succeeds, one RefundAll, each observed with
// its number of keys and whether it was refused.
func TestLimiterBatchCallsAreObserved(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	in, err := oauthotel.New(oauthotel.Config{TracerProvider: tp})
	require.NoError(t, err)
	fake := &fakeBatchLimiter{Limiter: memory.NewLimiter(memory.LimiterConfig{})}
	store := memory.New(memory.Config{})
	p := providertest.NewProviderOn(t, store, store, func(c *provider.Config) {
		c.Limiter = in.Limiter("redis", fake)
		c.UserRate = storage.Rate{Burst: 1, Every: time.Hour}
	})
	h := p.TokenHandler()
	named := func(name string) (out [][2]string) {
		for _, sp := range spans.Ended() {
			if sp.Name() == "oauth2.storage "+name {
				out = append(out, [2]string{attrOf(sp, oauthotel.AttrCount), attrOf(sp, oauthotel.AttrThrottled)})
			}
		}
		return out
	}

	providertest.Grant(t, h, providertest.PasswordGrant("read"))
	assert.EqualValues(t, 1, fake.reserveAlls.Load(), "the wrapped limiter's ReserveAll")
	assert.EqualValues(t, 1, fake.refundAlls.Load(), "the wrapped limiter's RefundAll")
	assert.Equal(t, [][2]string{{"2", "false"}}, named("ReserveAll"))
	assert.Equal(t, [][2]string{{"2", ""}}, named("RefundAll"))
	assert.Empty(t, named("Reserve"), "no key-by-key reservation")
	assert.Empty(t, named("Refund"), "no key-by-key refund")

	wrong := url.Values{"grant_type": {"password"}, "username": {providertest.Username}, "password": {"wrong"}}
	assert.Equal(t, http.StatusBadRequest, providertest.Post(h, provider.DefaultTokenPath, wrong).Code)
	assert.Equal(t, http.StatusTooManyRequests, providertest.Post(h, provider.DefaultTokenPath, wrong).Code)
	assert.Equal(t, [][2]string{{"2", "false"}, {"2", "false"}, {"2", "true"}}, named("ReserveAll"))
	assert.Len(t, named("RefundAll"), 1, "failures are not refunded")
}

// refusingFirst is a BatchLimiter whose ReserveAll refuses the first key.
type refusingFirst struct{ *memory.Limiter }

func (refusingFirst) ReserveAll(context.Context, []storage.LimitKey) (int, time.Duration, error) {
	return 0, time.Minute, nil
}

func (refusingFirst) RefundAll(context.Context, []storage.LimitKey) error { return nil }

// ReserveAll refusing its first key (index 0) is throttled too.
func TestLimiterReserveAllFirstKeyThrottled(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	in, err := oauthotel.New(oauthotel.Config{TracerProvider: tp})
	require.NoError(t, err)
	l, ok := in.Limiter("redis", refusingFirst{memory.NewLimiter(memory.LimiterConfig{})}).(storage.BatchLimiter)
	require.True(t, ok)
	refused, _, err := l.ReserveAll(context.Background(), []storage.LimitKey{{Key: "a"}, {Key: "b"}})
	require.NoError(t, err)
	require.Equal(t, 0, refused)
	ended := spans.Ended()
	require.Len(t, ended, 1)
	assert.Equal(t, "true", attrOf(ended[0], oauthotel.AttrThrottled))
}
