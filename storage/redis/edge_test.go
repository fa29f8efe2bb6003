package redis

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/testclock"
	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// A token is live strictly before its expiry: at the very nanosecond
// it expires, lookup, exchange and extension all find nothing, as the
// memory store judges it; a nanosecond earlier, all find it.
func TestTokenExpiringExactlyNow(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		start := h.clk.Now()
		_, access, refresh := h.grant("web", "alice", time.Hour)
		h.clk.Advance(time.Hour - time.Nanosecond)
		assert.True(t, h.live(storage.KindRefresh, refresh), "a nanosecond before")
		assert.True(t, h.live(storage.KindAccess, access))
		h.clk.Advance(time.Nanosecond)
		assert.False(t, h.live(storage.KindRefresh, refresh), "at its expiry")
		assert.False(t, h.live(storage.KindAccess, access))
		x, next := h.exchange("web", refresh)
		_, err := h.s.ExchangeToken(h.ctx, x)
		assert.ErrorIs(t, err, storage.ErrNotFound)
		assert.False(t, h.live(storage.KindRefresh, next[1]), "nothing issued")
		assert.ErrorIs(t, h.s.ExtendToken(h.ctx, access, start.Add(2*time.Hour)), storage.ErrNotFound)
	})
}

// A refresh token that expires with its grant is exchanged a nanosecond
// before: the new tokens outlive the old grant's expiry, which moves.
func TestExchangeAtTheGrantsLastNanosecond(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		g, _, refresh := h.grant("web", "alice", time.Hour)
		h.clk.Advance(time.Hour - time.Nanosecond)
		x, next := h.exchange("web", refresh)
		got, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		assert.Equal(t, h.clk.Now().Add(24*time.Hour), got.ExpiresAt)
		h.clk.Advance(time.Hour + time.Nanosecond)
		assert.True(t, h.live(storage.KindRefresh, next[1]), "the new token outlives the old grant expiry")
		n, err := h.s.RevokeUser(h.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, 1, n, "and its grant %s is still indexed", g.ID)
	})
}

// ExtendToken to an instant at or before now ends the token (it is no
// longer live), and nothing else: the grant and its other tokens live on.
func TestExtendTokenToThePast(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Nanosecond, -time.Hour, -100 * 365 * 24 * time.Hour} {
		each(t, func(t *testing.T, h *harness) {
			_, access, refresh := h.grant("web", "alice", 24*time.Hour)
			require.NoError(t, h.s.ExtendToken(h.ctx, access, h.clk.Now().Add(d)))
			assert.False(t, h.live(storage.KindAccess, access), "shortened by %v", d)
			assert.True(t, h.live(storage.KindRefresh, refresh), "the other token lives")
			x, _ := h.exchange("web", refresh)
			_, err := h.s.ExchangeToken(h.ctx, x)
			assert.NoError(t, err, "the grant lives")
		})
	}
}

// codeExchange stores grant gid of client web for alice, with a code,
// both living ttl, and returns an exchange of the code.
func (h *harness) codeExchange(gid string, ttl time.Duration) (storage.Exchange, [2]storage.TokenRef) {
	h.t.Helper()
	now := h.clk.Now()
	g := &storage.Grant{ID: gid, ClientID: "web", UserID: "alice", CreatedAt: now, ExpiresAt: now.Add(ttl),
		Code: &storage.CodeBinding{RedirectURI: "https://x/cb"}}
	code, ct := h.newToken(storage.KindCode, gid, ttl)
	require.NoError(h.t, h.s.CreateGrant(h.ctx, g, ct))
	x, next := h.exchange("web", code)
	x.Kind = storage.KindCode
	return x, next
}

// A code exchange with Check and Bind whose new refresh token passes the
// code grant's index horizon (the script, the indexes, the script again),
// every script command resent as after a lost reply: it succeeds, binds,
// and a replay of the code is still reuse.
func TestCodeExchangeResentThroughTheIndexPath(t *testing.T) {
	h := newHookedHarness(t, resendHook{})
	loadScripts(t, h, exchangeScript)
	x, next := h.codeExchange("codegrant0000000000000", time.Minute)
	x.Bind = "fp"
	checks := 0
	x.Check = func(*storage.Grant) error { checks++; return nil }
	got, err := h.s.ExchangeToken(h.ctx, x)
	require.NoError(t, err)
	assert.Equal(t, 1, checks)
	assert.Equal(t, "fp", got.Binding)
	assert.True(t, h.live(storage.KindRefresh, next[1]))
	h.clk.Advance(time.Hour)
	n, err := h.s.RevokeUser(h.ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "indexed past the code's horizon")
}

// lateResendHook sends each committing exchangeScript command that
// succeeds twice, as resendHook does, the second time after wait (real
// time): a reply lost to a timeout, resent once the presented token's key
// would have expired in Redis.
type lateResendHook struct{ wait time.Duration }

func (lateResendHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h lateResendHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if isScriptCall(cmd, exchangeScript) && slices.ContainsFunc(cmd.Args(), func(a any) bool {
			s, ok := a.(*string)
			return ok && *s == "commit"
		}) {
			if err := next(ctx, cmd); err != nil {
				return err
			}
			res, _ := cmd.(*goredis.Cmd).Text()
			if vals, _ := unpack(nil, res); len(vals) == 0 || vals[0] != "ok" {
				return nil // no commit: nothing to resend
			}
			time.Sleep(h.wait)
			cmd.SetErr(nil)
		}
		return next(ctx, cmd)
	}
}

func (lateResendHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// A code exchanged in its last moments, whose reply is lost and resent
// after the code's key would have expired in Redis, is the same exchange:
// it succeeds. The consumed code's key used to expire with the code, so
// the resend found nothing and the client was told invalid_grant while
// the grant and its new tokens, which it never got, lived on.
func TestExchangeResentPastThePresentedTokensExpiry(t *testing.T) {
	for _, check := range []bool{false, true} {
		h := newHookedHarness(t, lateResendHook{wait: 600 * time.Millisecond})
		loadScripts(t, h, exchangeScript)
		gid, err := token.NewGrantID()
		require.NoError(t, err)
		x, next := h.codeExchange(gid, 300*time.Millisecond)
		if check {
			x.Check = func(*storage.Grant) error { return nil }
		}
		got, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err, "check %v", check)
		assert.Equal(t, "alice", got.UserID)
		assert.True(t, h.live(storage.KindRefresh, next[1]))
	}
}

// revokeBeforeIndexHook revokes the grant (RevokeGrant, which removes its
// index entries) just before the first pipeline of index scripts sent
// after it is armed: a revocation between an exchange's or extension's
// "index first" reply and its index write.
type revokeBeforeIndexHook struct {
	revoke func()
	armed  atomic.Bool
}

func (*revokeBeforeIndexHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (*revokeBeforeIndexHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return next
}

func (h *revokeBeforeIndexHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if slices.ContainsFunc(cmds, func(c goredis.Cmder) bool { return isScriptCall(c, indexScript) }) && h.armed.CompareAndSwap(true, false) {
			h.revoke()
		}
		return next(ctx, cmds)
	}
}

// An exchange or extension that indexes a grant revoked meanwhile (the
// revocation removed its index entries just before the write) removes
// the entries it wrote: they named the user until their score, for ever
// with a lifetime of "never", as the revocation meant to prevent.
func TestIndexWriteRacingARevocationLeavesNoEntry(t *testing.T) {
	for _, op := range []string{"exchange", "extend"} {
		hook := &revokeBeforeIndexHook{}
		h := newHookedHarness(t, hook)
		g, _, refresh := h.grant("web", "alice", 24*time.Hour) // indexed to 30 h
		hook.revoke = func() { require.NoError(t, h.s.RevokeGrant(context.Background(), g.ID)) }
		h.clk.Advance(8 * time.Hour)
		hook.armed.Store(true)
		var err error
		if op == "exchange" {
			x, _ := h.exchange("web", refresh) // to 32 h, past the horizon
			_, err = h.s.ExchangeToken(h.ctx, x)
		} else {
			err = h.s.ExtendToken(h.ctx, refresh, h.clk.Now().Add(40*time.Hour))
		}
		require.ErrorIs(t, err, storage.ErrNotFound, op)
		require.False(t, hook.armed.Load(), "%s: the revocation ran", op)
		for _, key := range []string{h.s.userGrantsKey("alice"), h.s.clientGrantsKey("web")} {
			_, err := h.rdb.ZScore(h.ctx, key, g.ID).Result()
			assert.ErrorIs(t, err, goredis.Nil, "%s: %s keeps no entry of the revoked grant", op, key)
		}
	}
}

// An exchange that leaves its grant's expiry where it was gives the
// grant's token set the grant key's own TTL: an instance whose clock is
// ahead (within the skew the store tolerates) gave it one from its own
// clock, shorter than its grant's, so the set went first.
func TestExchangeGivesTheTokenSetItsGrantsTTL(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		clk := testclock.New(h.clk.Now().Add(2500 * time.Millisecond))
		a := New(h.rdb, Config{Prefix: h.prefix, Now: clk.Now})

		gid, err := token.NewGrantID()
		require.NoError(t, err)
		now := h.clk.Now()
		life := 3 * time.Second
		g := &storage.Grant{ID: gid, ClientID: "web", UserID: "alice", CreatedAt: now, ExpiresAt: now.Add(life)}
		_, at := h.newToken(storage.KindAccess, gid, life)
		refresh, rt := h.newToken(storage.KindRefresh, gid, life)
		require.NoError(t, h.s.CreateGrant(h.ctx, g, at, rt))

		// The instance ahead exchanges, issuing a token that ends with
		// the grant.
		_, next := h.newToken(storage.KindAccess, gid, life)
		_, err = a.ExchangeToken(h.ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: refresh, ClientID: "web", Issue: []storage.Token{next}})
		require.NoError(t, err)
		base := h.s.grantBase(gid)
		set, err := h.rdb.PTTL(h.ctx, tokenSetKey(base)).Result()
		require.NoError(t, err)
		grant, err := h.rdb.PTTL(h.ctx, grantKey(base)).Result()
		require.NoError(t, err)
		assert.InDelta(t, grant.Milliseconds(), set.Milliseconds(), 100, "the set's TTL is its grant's")
	})
}

// A grant's token set that went before its grant (one written by an
// earlier version, whose exchange on an instance ahead gave it a TTL
// from its own clock) is written anew by an extension, which adds the
// token to it again: it gets a TTL, or it would stay in Redis for ever.
func TestExtendTokenRecreatesTheTokenSetWithATTL(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		gid, err := token.NewGrantID()
		require.NoError(t, err)
		now := h.clk.Now()
		life := 3 * time.Second
		g := &storage.Grant{ID: gid, ClientID: "web", UserID: "alice", CreatedAt: now, ExpiresAt: now.Add(life)}
		access, at := h.newToken(storage.KindAccess, gid, life)
		_, rt := h.newToken(storage.KindRefresh, gid, life)
		require.NoError(t, h.s.CreateGrant(h.ctx, g, at, rt))

		skey := tokenSetKey(h.s.grantBase(gid))
		require.NoError(t, h.rdb.PExpire(h.ctx, skey, 200*time.Millisecond).Err())
		require.Eventually(t, func() bool { return h.rdb.Exists(h.ctx, skey).Val() == 0 }, 2*time.Second, 50*time.Millisecond, "the set goes first")

		require.NoError(t, h.s.ExtendToken(h.ctx, access, now.Add(2*time.Second)))
		d, err := h.rdb.PTTL(h.ctx, skey).Result()
		require.NoError(t, err)
		assert.Greater(t, d, time.Duration(0), "the token set has a TTL")
		assert.LessOrEqual(t, d, life)
	})
}

// A token an instance whose clock is ahead has pruned from its grant's
// token set (expired by its clock, live by that of an instance behind)
// is not deleted when the grant is revoked: on the instance behind, it
// is still no use, neither exchanged nor looked up.
func TestTokenPrunedByAnInstanceAheadDiesWithItsGrant(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		const ahead = time.Minute
		clk := testclock.New(h.clk.Now().Add(ahead))
		a := New(h.rdb, Config{Prefix: h.prefix, Now: clk.Now})

		gid, err := token.NewGrantID()
		require.NoError(t, err)
		now := h.clk.Now()
		g := &storage.Grant{ID: gid, ClientID: "web", UserID: "alice", CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
		refresh, rt := h.newToken(storage.KindRefresh, gid, 24*time.Hour)
		short, st := h.newToken(storage.KindRefresh, gid, ahead/2)
		require.NoError(t, h.s.CreateGrant(h.ctx, g, rt, st))

		// The instance ahead rotates the other token, and prunes the
		// short one from the set.
		x, _ := h.exchange("web", refresh)
		_, err = a.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		require.ErrorIs(t, h.rdb.ZScore(h.ctx, tokenSetKey(h.s.grantBase(gid)), short.Hash.String()).Err(), goredis.Nil, "pruned")

		require.NoError(t, h.s.RevokeGrant(h.ctx, gid))
		assert.False(t, h.live(storage.KindRefresh, short), "looked up")
		x, next := h.exchange("web", short)
		_, err = h.s.ExchangeToken(h.ctx, x)
		assert.ErrorIs(t, err, storage.ErrNotFound, "exchanged")
		assert.False(t, h.live(storage.KindRefresh, next[1]), "nothing issued")
		assert.ErrorIs(t, h.s.ExtendToken(h.ctx, short, now.Add(time.Hour)), storage.ErrNotFound, "extended")
	})
}

// A token expiring before its grant, extended at the very nanosecond it
// expires, is not live: ExtendToken finds nothing, as lookup does.
func TestExtendTokenAtItsExpiry(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		_, access, refresh := h.grant("web", "alice", 24*time.Hour) // access lives an hour
		h.clk.Advance(time.Hour)
		assert.ErrorIs(t, h.s.ExtendToken(h.ctx, access, h.clk.Now().Add(time.Hour)), storage.ErrNotFound)
		assert.False(t, h.live(storage.KindAccess, access))
		assert.True(t, h.live(storage.KindRefresh, refresh), "the grant lives")
	})
}

// An exchange whose new token outlives the grant moves the token set's
// TTL with the grant's: a set that went at the old expiry would leave a
// later revocation nothing to delete, and the grant's tombstone no
// consumed token to outlive, so a consumed token presented again after
// it would no longer be reuse.
func TestExchangeMovesTheTokenSetsTTL(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		g, _, refresh := h.grant("web", "alice", time.Hour)
		x, _ := h.exchange("web", refresh) // a refresh token of a day
		_, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		base := h.s.grantBase(g.ID)
		for _, k := range []string{grantKey(base), tokenSetKey(base)} {
			d, err := h.rdb.PTTL(h.ctx, k).Result()
			require.NoError(t, err)
			assert.Greater(t, d, 24*time.Hour-5*time.Second, "PTTL of %s", k)
			assert.LessOrEqual(t, d, 24*time.Hour, "PTTL of %s", k)
		}
	})
}

// CreateGrant refuses a token whose GrantID names another grant, and
// writes nothing: the token's ref, which carries that other grant's ID,
// would never find it under this one.
func TestCreateGrantRefusesATokenOfAnotherGrant(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		gid, err := token.NewGrantID()
		require.NoError(t, err)
		other, err := token.NewGrantID()
		require.NoError(t, err)
		now := h.clk.Now()
		g := &storage.Grant{ID: gid, ClientID: "web", UserID: "alice", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		_, tok := h.newToken(storage.KindAccess, other, time.Hour)
		err = h.s.CreateGrant(h.ctx, g, tok)
		require.ErrorIs(t, err, errTokenGrant)
		keys, err := keysWithPrefix(h.ctx, h.rdb, h.prefix)
		require.NoError(t, err)
		assert.Empty(t, keys, "nothing written")
	})
}

// An exchange that leaves its grant's expiry where it was gives the token
// set the grant key's PTTL; a grant key that has none (its TTL removed,
// PERSIST, or a restore that dropped it) falls back to the TTL of the
// grant's expiry, where the PTTL's -1 would delete the set.
func TestExchangeOnAGrantKeyWithoutTTLKeepsTheTokenSet(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		g, _, refresh := h.grant("web", "alice", 48*time.Hour) // later than the new tokens
		_, gkey, skey := h.s.grantKeys(g.ID)
		require.NoError(t, h.rdb.Persist(h.ctx, gkey).Err())

		x, _ := h.exchange("web", refresh)
		_, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		d, err := h.rdb.PTTL(h.ctx, skey).Result()
		require.NoError(t, err)
		assert.Greater(t, d, time.Duration(0), "the token set is there, with a TTL")
		assert.LessOrEqual(t, d, 48*time.Hour)
	})
}
