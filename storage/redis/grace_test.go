package redis

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// graceTime is the grace these tests give (storage.Exchange.ReuseGrace).
const graceTime = 30 * time.Second

// graced returns h.exchange's exchange with the grace, and its refs.
func (h *harness) graced(clientID string, refresh storage.TokenRef) (storage.Exchange, [2]storage.TokenRef) {
	h.t.Helper()
	x, next := h.exchange(clientID, refresh)
	x.ReuseGrace = graceTime
	return x, next
}

// A token consumed by a version before the grace (no at field in its
// hash) has no grace: presenting it again is reuse, which ends the grant.
func TestGraceNeedsTheConsumptionInstant(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		_, _, refresh := h.grant("web", "alice", 24*time.Hour)
		x, next := h.graced("web", refresh)
		_, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		key := tokenKey(h.s.grantBase(refresh.GrantID), refresh.Hash)
		require.NoError(t, h.rdb.HDel(h.ctx, key, "at").Err(), "as a version before at left it")

		h.clk.Advance(time.Second)
		x2, next2 := h.graced("web", refresh)
		_, err = h.s.ExchangeToken(h.ctx, x2)
		assert.ErrorIs(t, err, storage.ErrTokenReused)
		assert.False(t, h.live(storage.KindRefresh, next[1]), "the grant is revoked")
		assert.False(t, h.live(storage.KindRefresh, next2[1]), "nothing issued")
	})
}

// The grace is judged to the nanosecond, from the instant recorded at the
// first consumption (Unix nanoseconds, beyond a Lua number's 2^53): one
// nanosecond before its end the token is exchanged again, and neither
// that exchange nor one with Check moves the instant or the mark of the
// first exchange, whose resend still answers "ok".
func TestGraceToTheNanosecond(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		_, _, refresh := h.grant("web", "alice", 24*time.Hour)
		h.clk.Advance(123456789 * time.Nanosecond) // not a whole millisecond
		first := h.clk.Now()
		x, next := h.graced("web", refresh)
		_, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		key := tokenKey(h.s.grantBase(refresh.GrantID), refresh.Hash)
		mark, err := h.rdb.HMGet(h.ctx, key, "consumed", "by", "at").Result()
		require.NoError(t, err)
		assert.Equal(t, []any{"1", next[0].Hash.String(), strconv.FormatInt(first.UnixNano(), 10)}, mark)

		h.clk.Advance(graceTime / 2)
		x2, next2 := h.graced("web", refresh)
		x2.Check = func(*storage.Grant) error { return nil }
		_, err = h.s.ExchangeToken(h.ctx, x2)
		require.NoError(t, err, "within the grace, with Check")
		h.clk.Advance(first.Add(graceTime - time.Nanosecond).Sub(h.clk.Now()))
		x3, next3 := h.graced("web", refresh)
		_, err = h.s.ExchangeToken(h.ctx, x3)
		require.NoError(t, err, "1 ns before the grace ends")
		again, err := h.rdb.HMGet(h.ctx, key, "consumed", "by", "at").Result()
		require.NoError(t, err)
		assert.Equal(t, mark, again, "the first consumption's mark and instant stay")

		_, err = h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err, "the first exchange resent is still known as such")
		for _, r := range []storage.TokenRef{next[1], next2[1], next3[1]} {
			assert.True(t, h.live(storage.KindRefresh, r))
		}

		h.clk.Advance(time.Nanosecond)
		x4, _ := h.graced("web", refresh)
		_, err = h.s.ExchangeToken(h.ctx, x4)
		assert.ErrorIs(t, err, storage.ErrTokenReused, "at the grace's end")
		assert.False(t, h.live(storage.KindRefresh, next3[1]), "the grant is revoked")
	})
}

// An exchange within the grace resent after its reply was lost (go-redis
// MaxRetries) finds the tokens it stored and answers ErrAlreadyExists:
// nothing marks them as its own. The tokens it stored are live, and the
// client, told of a failure, may try again within the grace.
func TestGraceExchangeResentIsAlreadyExists(t *testing.T) {
	h := newHookedHarness(t, resendHook{})
	loadScripts(t, h, exchangeScript) // else the first run is an EVAL, not resent
	_, _, refresh := h.grant("web", "alice", 24*time.Hour)
	x, _ := h.graced("web", refresh)
	_, err := h.s.ExchangeToken(h.ctx, x)
	require.NoError(t, err, "the first exchange resent is known")

	x2, next2 := h.graced("web", refresh)
	_, err = h.s.ExchangeToken(h.ctx, x2)
	assert.ErrorIs(t, err, storage.ErrAlreadyExists)
	assert.True(t, h.live(storage.KindRefresh, next2[1]), "its first run stored them")
}

// graceBound is empty without a grace or for a code, and clamped at 0.
func TestGraceBound(t *testing.T) {
	now := time.Unix(1800000000, 123456789)
	x := storage.Exchange{Kind: storage.KindRefresh, ReuseGrace: time.Second}
	assert.Equal(t, "1799999999123456790", graceBound(now, x), "now less the grace, plus 1 ns")
	x.ReuseGrace = 0
	assert.Equal(t, "", graceBound(now, x))
	x.ReuseGrace = -time.Second
	assert.Equal(t, "", graceBound(now, x))
	x.ReuseGrace, x.Kind = time.Second, storage.KindCode
	assert.Equal(t, "", graceBound(now, x))
	x.Kind, x.ReuseGrace = storage.KindRefresh, time.Duration(1<<63-1)
	assert.Equal(t, "0", graceBound(now, x))
	at5 := time.Unix(0, 5)
	assert.Equal(t, "0", graceBound(at5, storage.Exchange{Kind: storage.KindRefresh, ReuseGrace: 7}))
	assert.Equal(t, "0", graceBound(at5, storage.Exchange{Kind: storage.KindRefresh, ReuseGrace: 6}), "a consumption at 0 is within it")
	assert.Equal(t, "1", graceBound(at5, storage.Exchange{Kind: storage.KindRefresh, ReuseGrace: 5}), "one at 0 is not")
}

// A grant's consumptions record strictly increasing instants whatever the
// clock of the store that makes them: one whose clock is behind the
// grant's latest consumption (lc, here with trailing nines, whose
// successor carries) records one nanosecond past it, so that the token
// consumed before still sees the chain as moved on, and presenting it
// again within its grace is reuse.
func TestGraceConsumptionsIncreaseAcrossClocks(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		_, _, refresh := h.grant("web", "alice", 24*time.Hour)
		x, next := h.graced("web", refresh)
		_, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		// As an instance two minutes ahead would have recorded it.
		ahead := h.clk.Now().Add(2*time.Minute).UnixNano()/1000*1000 + 999
		gkey := grantKey(h.s.grantBase(refresh.GrantID))
		first := tokenKey(h.s.grantBase(refresh.GrantID), refresh.Hash)
		require.NoError(t, h.rdb.HSet(h.ctx, first, "at", ahead).Err())
		require.NoError(t, h.rdb.HSet(h.ctx, gkey, "lc", ahead).Err())

		h.clk.Advance(time.Second)
		x2, next2 := h.graced("web", next[1])
		_, err = h.s.ExchangeToken(h.ctx, x2)
		require.NoError(t, err)
		at, err := h.rdb.HGet(h.ctx, tokenKey(h.s.grantBase(refresh.GrantID), next[1].Hash), "at").Result()
		require.NoError(t, err)
		assert.Equal(t, strconv.FormatInt(ahead+1, 10), at, "one past the latest consumption")
		lc, err := h.rdb.HGet(h.ctx, gkey, "lc").Result()
		require.NoError(t, err)
		assert.Equal(t, at, lc)

		// An exchange that issues no token (the script's other branch)
		// records the next instant too.
		x2b, _ := h.graced("web", next2[1])
		x2b.Issue = nil
		_, err = h.s.ExchangeToken(h.ctx, x2b)
		require.NoError(t, err)
		at, err = h.rdb.HGet(h.ctx, tokenKey(h.s.grantBase(refresh.GrantID), next2[1].Hash), "at").Result()
		require.NoError(t, err)
		assert.Equal(t, strconv.FormatInt(ahead+2, 10), at, "one past the latest consumption, with no token issued")

		h.clk.Advance(time.Second)
		x3, _ := h.graced("web", refresh)
		_, err = h.s.ExchangeToken(h.ctx, x3)
		assert.ErrorIs(t, err, storage.ErrTokenReused, "the chain moved on")
	})
}

// The script's after is the successor of lc as a decimal, whatever
// digits it ends in, or now when that is later.
func TestGraceAfterIsTheDecimalSuccessor(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		for _, c := range []struct{ lc, now, want string }{
			{"", "7", "7"},
			{"5", "7", "7"},
			{"7", "7", "8"},
			{"8", "7", "9"},
			{"1299", "1000", "1300"},
			{"999", "5", "1000"},
			{"1764000000000000999", "1764000000000000000", "1764000000000001000"},
		} {
			// The hash tag keeps the key in one slot of a cluster.
			got, err := h.rdb.Eval(h.ctx, luaPrelude+`
local lc = ARGV[1]
if lc == '' then lc = nil end
return after(lc, ARGV[2])`, []string{"{oauth2test-after}"}, c.lc, c.now).Text()
			require.NoError(t, err)
			assert.Equal(t, c.want, got, "after(%q, %q)", c.lc, c.now)
		}
	})
}
