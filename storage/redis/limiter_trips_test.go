package redis

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// newHookedLimiter returns a Limiter on a single-node client of its own,
// with hook added to it, under a fresh prefix.
func newHookedLimiter(t *testing.T, hook goredis.Hook) *Limiter {
	t.Helper()
	l, _ := newTestLimiter(t, hookedClient(t, hook))
	return l
}

// ReserveAll and RefundAll of an attempt's two keys are one round trip
// each; a refusal after a reservation costs a second, for the refund.
func TestLimiterRoundTrips(t *testing.T) {
	var trips tripCounter
	l := newHookedLimiter(t, &trips)
	ctx := context.Background()
	r := storage.Rate{Burst: 2, Every: time.Minute}
	keys := []storage.LimitKey{{Key: "ip", Rate: storage.Rate{Burst: 30, Every: 10 * time.Second}}, {Key: "user", Rate: r}}

	// Warm up: the first call of each script may be NOSCRIPT + EVAL.
	_, _, err := l.ReserveAll(ctx, keys)
	require.NoError(t, err)
	require.NoError(t, l.RefundAll(ctx, keys))

	for range 3 {
		var refused int
		assert.EqualValues(t, 1, trips.count(func() {
			refused, _, err = l.ReserveAll(ctx, keys)
			require.NoError(t, err)
		}), "ReserveAll of two keys")
		require.Equal(t, -1, refused)
		assert.EqualValues(t, 1, trips.count(func() { require.NoError(t, l.RefundAll(ctx, keys)) }), "RefundAll of two keys")
	}

	// Spend the user key's burst: then the per-IP key is reserved and
	// refunded, a second round trip.
	for range r.Burst {
		w, err := l.Reserve(ctx, "user", r)
		require.NoError(t, err)
		require.Zero(t, w)
	}
	assert.EqualValues(t, 2, trips.count(func() {
		refused, wait, err := l.ReserveAll(ctx, keys)
		require.NoError(t, err)
		assert.Equal(t, 1, refused)
		assert.Positive(t, wait)
	}), "ReserveAll refused by its second key: the reservation and the refund of the first")
	assert.EqualValues(t, 1, trips.count(func() {
		refused, _, err := l.ReserveAll(ctx, keys[1:])
		require.NoError(t, err)
		assert.Equal(t, 0, refused)
	}), "ReserveAll refused with nothing reserved: nothing to refund")
	w, err := l.Throttled(ctx, "ip", keys[0].Rate)
	require.NoError(t, err)
	assert.Zero(t, w)
}

// A server that lost its script cache (a restart, SCRIPT FLUSH) still
// reserves and refunds in batches: a NOSCRIPT in a pipeline is sent again
// with the script's body.
func TestLimiterBatchSurvivesScriptFlush(t *testing.T) {
	rdb := goredis.NewClient(&goredis.Options{Addr: startRedis(t)})
	t.Cleanup(func() { _ = rdb.Close() })
	l := NewLimiter(rdb, "")
	ctx := context.Background()
	r := storage.Rate{Burst: 1, Every: time.Minute}
	keys := []storage.LimitKey{{Key: "a", Rate: r}, {Key: "b", Rate: r}}

	require.NoError(t, rdb.ScriptFlush(ctx).Err())
	refused, _, err := l.ReserveAll(ctx, keys)
	require.NoError(t, err)
	require.Equal(t, -1, refused)
	require.NoError(t, rdb.ScriptFlush(ctx).Err())
	require.NoError(t, l.RefundAll(ctx, keys))
	for _, k := range keys {
		w, err := l.Throttled(ctx, k.Key, r)
		require.NoError(t, err)
		assert.Zero(t, w, "refunded %s", k.Key)
	}

	// Refused after a reservation, with the refund script not cached.
	w, err := l.Reserve(ctx, "b", r)
	require.NoError(t, err)
	require.Zero(t, w)
	require.NoError(t, rdb.ScriptFlush(ctx).Err())
	require.NoError(t, rdb.ScriptLoad(ctx, gcraScript.src).Err())
	refused, wait, err := l.ReserveAll(ctx, keys)
	require.NoError(t, err)
	assert.Equal(t, 1, refused)
	assert.Positive(t, wait)
	w, err = l.Throttled(ctx, "a", r)
	require.NoError(t, err)
	assert.Zero(t, w, "the reservation under a was refunded")
}

// downHook fails, without sending them, the commands on a key that ends
// in "down", as a cluster node that is down would: the other commands of
// a pipeline run.
type downHook struct{}

func (downHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (downHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }

func (downHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		var up []goredis.Cmder
		for _, cmd := range cmds {
			if k, ok := cmd.Args()[3].(*string); ok && strings.HasSuffix(*k, "down") {
				cmd.SetErr(errors.New("node down"))
				continue
			}
			up = append(up, cmd)
		}
		if err := next(ctx, up); err != nil {
			return err
		}
		return errors.New("node down")
	}
}

// A ReserveAll that an outage of some keys' node fails is an error, and
// leaves nothing counted under the keys it reserved on the nodes that
// answered: the per-key path refunds them too.
func TestLimiterReserveAllPartialOutageRefunds(t *testing.T) {
	l := newHookedLimiter(t, downHook{})
	ctx := context.Background()
	r := storage.Rate{Burst: 1, Every: time.Minute}
	for _, keys := range [][]storage.LimitKey{
		{{Key: "up", Rate: r}, {Key: "down", Rate: r}},
		{{Key: "down", Rate: r}, {Key: "up", Rate: r}},
	} {
		_, _, err := l.ReserveAll(ctx, keys)
		require.Error(t, err)
		w, err := l.Throttled(ctx, "up", r)
		require.NoError(t, err)
		assert.Zero(t, w, "the reservation under the key that answered was refunded")
	}
}

// cancelHook cancels the attempt's context as soon as its first pipeline
// (the reservations) has run, as a client that hangs up would, and records
// the context of the pipelines after it (the refunds).
type cancelHook struct {
	cancel   context.CancelFunc
	pipes    int
	undoErr  error
	deadline time.Duration // until the undo's deadline; 0: none
}

func (*cancelHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (*cancelHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }

func (h *cancelHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.pipes++
		if h.pipes == 1 {
			err := next(ctx, cmds)
			h.cancel()
			return err
		}
		h.undoErr = ctx.Err()
		if d, ok := ctx.Deadline(); ok {
			h.deadline = time.Until(d)
		}
		return next(ctx, cmds)
	}
}

// A refused ReserveAll takes back its reservations even when the caller
// has gone meanwhile, but not for ever: the refund runs on a context the
// caller's cancellation does not end, bounded by undoTimeout.
func TestLimiterReserveAllUndoOutlivesTheCallerBounded(t *testing.T) {
	hook := &cancelHook{cancel: func() {}}
	l := newHookedLimiter(t, hook)
	r := storage.Rate{Burst: 1, Every: time.Minute}
	ctx := context.Background()
	_, _, err := l.ReserveAll(ctx, []storage.LimitKey{{Key: "full", Rate: r}})
	require.NoError(t, err) // takes the one token of "full"

	hook.pipes = 0
	ctx, hook.cancel = context.WithCancel(ctx)
	refused, _, err := l.ReserveAll(ctx, []storage.LimitKey{{Key: "free", Rate: r}, {Key: "full", Rate: r}})
	require.NoError(t, err)
	assert.Equal(t, 1, refused)
	require.Equal(t, 2, hook.pipes, "the reservation under free was taken back")
	assert.NoError(t, hook.undoErr, "the caller's cancellation did not end the undo")
	assert.Greater(t, hook.deadline, time.Second, "the undo is bounded, but not by a deadline shorter than a slow round trip")
	assert.LessOrEqual(t, hook.deadline, undoTimeout)

	w, err := l.Throttled(context.Background(), "free", r)
	require.NoError(t, err)
	assert.Zero(t, w, "nothing stays counted under free")
}

// undoDownHook, once armed, runs the first pipeline and fails, without
// sending them, the commands of the pipelines after it (ReserveAll's
// refunds), as a node that went down between the two would.
type undoDownHook struct{ armed, pipes int }

func (*undoDownHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (*undoDownHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }

func (h *undoDownHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.pipes++
		if h.armed == 0 || h.pipes == 1 {
			return next(ctx, cmds)
		}
		err := errors.New("node down")
		for _, cmd := range cmds {
			cmd.SetErr(err)
		}
		return err
	}
}

// A refused ReserveAll whose refund of what it reserved fails is an
// error: it did not leave nothing counted, as a refusal without error
// promises.
func TestLimiterReserveAllFailedUndoIsAnError(t *testing.T) {
	hook := &undoDownHook{}
	l := newHookedLimiter(t, hook)
	t.Cleanup(func() { hook.armed = 0 }) // before the keys are deleted
	r := storage.Rate{Burst: 1, Every: time.Minute}
	ctx := context.Background()
	_, _, err := l.ReserveAll(ctx, []storage.LimitKey{{Key: "full", Rate: r}})
	require.NoError(t, err) // takes the one token of "full"

	hook.armed, hook.pipes = 1, 0
	_, _, err = l.ReserveAll(ctx, []storage.LimitKey{{Key: "free", Rate: r}, {Key: "full", Rate: r}})
	require.Error(t, err, "the reservation under free was not refunded")
	assert.True(t, strings.HasPrefix(err.Error(), "redis: limiter: "), "error %q", err)
}
