package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// TestLimiterSmallMaxKeysKeepsThrottledKey is
// TestLimiterFloodOfSingleFailuresKeepsThrottledKey with a MaxKeys small
// enough that a shard per 64th of it would hold a key or two: a flood of
// single failures (none of them throttled) must still not make the
// Limiter forget a throttled key.
func TestLimiterSmallMaxKeysKeepsThrottledKey(t *testing.T) {
	for _, maxKeys := range []int{16, 64, 100, 200} {
		t.Run(fmt.Sprint(maxKeys), func(t *testing.T) {
			clk := newFakeNow()
			l := NewLimiter(LimiterConfig{Now: clk.Now, MaxKeys: maxKeys})
			ctx := context.Background()
			r := storage.Rate{Burst: 3, Every: time.Minute}
			for range r.Burst {
				_, err := l.Fail(ctx, "victim", r)
				require.NoError(t, err)
			}
			for i := range 2000 {
				_, err := l.Fail(ctx, fmt.Sprint("flood-", i), r)
				require.NoError(t, err)
			}
			require.LessOrEqual(t, l.len(), maxKeys)
			w, err := l.Throttled(ctx, "victim", r)
			require.NoError(t, err)
			assert.Equal(t, time.Minute, w, "a flood of single failures made the Limiter forget a throttled key")
		})
	}
}
