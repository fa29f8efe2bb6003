package provider

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// busyRefusingLimiter refuses every reservation, during each of which an
// attempt under another key of the shard ends, as in a busy process,
// where a shard holds a 64th of all keys.
type busyRefusingLimiter struct {
	storage.Limiter
	sh       *pendingShard
	reserves atomic.Int32
}

func (l *busyRefusingLimiter) Reserve(context.Context, string, storage.Rate) (time.Duration, error) {
	l.reserves.Add(1)
	l.sh.add("someone else")
	l.sh.done("someone else", false)
	time.Sleep(50 * time.Microsecond) // a round trip, during which others reserve
	return time.Minute, nil
}

// Concurrent attempts under a spent key in a busy process each ask the
// limiter a bounded number of times. Each woke the others when it was
// refused and left last, and they, seeing attempts under other keys of
// their shards ended meanwhile, reserved again, round after round until
// their wait was over: about n*n/2 reservations (a round trip each on a
// shared limiter) for n requests of a flood.
func TestRefusedFloodInABusyProcessReservesLinearly(t *testing.T) {
	th, keys := newTestThrottler(time.Minute)
	l := &busyRefusingLimiter{Limiter: th.limiter, sh: th.pending.shard(keys[0].Key)}
	th.limiter = l
	const n = 64
	outs := make([]<-chan *Error, n)
	for i := range outs {
		outs[i] = beginAsync(th, keys)
	}
	for _, out := range outs {
		e := awaitWaiter(t, out, "an attempt still waits")
		require.NotNil(t, e)
		assert.Equal(t, http.StatusTooManyRequests, e.Status)
	}
	assert.LessOrEqual(t, int(l.reserves.Load()), n*(maxImmediateRetries+2))
}
