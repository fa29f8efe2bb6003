package provider

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// otherShardKey returns a key whose shard of p is none of keys'.
func otherShardKey(p *pending, keys ...string) string {
	for i := 0; ; i++ {
		k := "key " + strconv.Itoa(i)
		if !slices.ContainsFunc(keys, func(key string) bool { return p.shard(key) == p.shard(k) }) {
			return k
		}
	}
}

// Two attempts whose first keys differ share their second (two client IDs
// from one address share the per-IP key). One refused by the shared key
// while the other is in flight finds that one under the key that refused
// it, in that key's shard (not its first key's), and, woken by its
// refund, sees it ended there: it gets the refunded slot, not a 429.
func TestWaitingAttemptFindsASharedSecondKeyInFlight(t *testing.T) {
	one := storage.Rate{Burst: 1, Every: time.Hour}
	many := storage.Rate{Burst: 100, Every: time.Hour}
	th := &throttler{limiter: memory.NewLimiter(memory.LimiterConfig{}), pending: newPending(), maxWait: time.Minute}
	a := [2]storage.LimitKey{{Key: "client a", Rate: many}, {Key: "shared ip", Rate: one}}
	b := [2]storage.LimitKey{{Key: otherShardKey(th.pending, a[0].Key, a[1].Key), Rate: many}, a[1]}
	first, e := th.begin(context.Background(), a)
	require.Nil(t, e)
	waiter := beginAsync(th, b)
	requireWaiting(t, waiter)
	first.end() // success: refunded
	require.Nil(t, awaitWaiter(t, waiter, "the waiter was not woken by the refund"))
}
