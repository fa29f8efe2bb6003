package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/testclock"
	"github.com/oauth2provider/oauth2provider/storage"
)

// manyGrants is a user's grant count that takes more than one pipeline
// of revokeBatch.
const manyGrants = revokeBatch + 44

// grants stores n grants of client for user, living ttl, and returns
// their access tokens.
func (h *harness) grants(n int, clientID, userID string, ttl time.Duration) []storage.TokenRef {
	h.t.Helper()
	access := make([]storage.TokenRef, n)
	for i := range access {
		_, access[i], _ = h.grant(clientID, userID, ttl)
	}
	return access
}

// RevokeUser and RevokeClient cost two round trips per page of the
// index (its read, which also removes the previous page's found entries,
// and one pipeline of revoke scripts) and one more: not one round trip
// per grant. Here every grant has one expiry, so the first page is that
// score's entries, read whole, and the next read, which removes them, is
// empty.
func TestRevokeIndexRoundTrips(t *testing.T) {
	var trips tripCounter
	h := newHookedHarness(t, &trips)
	// Warm up: the first call of each script may be NOSCRIPT + EVAL.
	h.grant("web", "warm", time.Hour)
	_, err := h.s.RevokeUser(h.ctx, "warm")
	require.NoError(t, err)

	access := h.grants(manyGrants, "web", "alice", time.Hour)
	_, bob, _ := h.grant("web", "bob", time.Hour)
	const want = 3
	assert.EqualValues(t, want, trips.count(func() {
		n, err := h.s.RevokeUser(h.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, manyGrants, n)
	}), "RevokeUser of %d grants", manyGrants)
	assert.False(t, h.live(storage.KindAccess, access[0]))
	assert.False(t, h.live(storage.KindAccess, access[manyGrants-1]))

	// The client's index lists alice's ended grants, bob's live one and
	// the warm-up grant.
	assert.EqualValues(t, want, trips.count(func() {
		n, err := h.s.RevokeClient(h.ctx, "web")
		require.NoError(t, err)
		assert.Equal(t, 1, n, "only bob's grant was live")
	}), "RevokeClient of %d grants", manyGrants+2)
	assert.False(t, h.live(storage.KindAccess, bob))
}

// Across pipelines, RevokeUser counts the live grants it ended, removes
// the entries of the grants it found (live or already ended), and keeps
// the entry of a grant not yet written and that of another user's grant.
func TestRevokeIndexAcrossBatches(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		access := h.grants(manyGrants, "web", "alice", time.Hour)
		ended := 0
		for i := 0; i < manyGrants; i += 29 {
			require.NoError(t, h.s.RevokeGrant(h.ctx, access[i].GrantID))
			ended++
		}
		require.NoError(t, h.s.index(h.ctx, h.clk.Now(), "coming", "alice", "web", h.clk.Now().Add(time.Hour)))
		other, bob, _ := h.grant("web", "bob", time.Hour)
		require.NoError(t, h.rdb.ZAdd(h.ctx, h.s.userGrantsKey("alice"), goredis.Z{Score: float64(other.ExpiresAt.UnixMilli()), Member: other.ID}).Err())

		n, err := h.s.RevokeUser(h.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, manyGrants-ended, n)
		for _, a := range access {
			assert.False(t, h.live(storage.KindAccess, a), "grant %s", a.GrantID)
		}
		assert.True(t, h.live(storage.KindAccess, bob), "a stale entry revokes nothing")
		ids, err := h.rdb.ZRange(h.ctx, h.s.userGrantsKey("alice"), 0, -1).Result()
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"coming", other.ID}, ids)

		n, err = h.s.RevokeUser(h.ctx, "alice")
		require.NoError(t, err)
		assert.Zero(t, n, "nothing left to end")
	})
}

// A server that lost its script cache (a restart, SCRIPT FLUSH) still
// revokes a user's and a client's grants, over several pipelines: the
// calls answered NOSCRIPT are sent again with the script's body.
func TestRevokeIndexSurvivesScriptFlush(t *testing.T) {
	h := newFlushHarness(t)
	alice := h.grants(manyGrants, "web", "alice", time.Hour)
	bob := h.grants(3, "web", "bob", time.Hour)

	require.NoError(t, h.rdb.ScriptFlush(h.ctx).Err())
	n, err := h.s.RevokeUser(h.ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, manyGrants, n)
	for _, a := range alice {
		assert.False(t, h.live(storage.KindAccess, a), "grant %s", a.GrantID)
	}

	require.NoError(t, h.rdb.ScriptFlush(h.ctx).Err())
	n, err = h.s.RevokeClient(h.ctx, "web")
	require.NoError(t, err)
	assert.Equal(t, len(bob), n)
	for _, a := range bob {
		assert.False(t, h.live(storage.KindAccess, a), "grant %s", a.GrantID)
	}
	for _, key := range []string{h.s.userGrantsKey("alice"), h.s.clientGrantsKey("web")} {
		ids, err := h.rdb.ZRange(h.ctx, key, 0, -1).Result()
		require.NoError(t, err)
		assert.Empty(t, ids, key)
	}
}

// failNth is a go-redis hook that, when armed, fails the nth call it
// sees (from 1) of the script sc (the revoke script when nil), alone or
// in a pipeline, without sending it; the other calls of a pipeline run.
type failNth struct {
	n     int64
	sc    *script
	seen  atomic.Int64
	armed atomic.Bool
}

var errCallFailed = errors.New("call failed")

func (f *failNth) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (f *failNth) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if f.fails(cmd) {
			cmd.SetErr(errCallFailed)
			return errCallFailed
		}
		return next(ctx, cmd)
	}
}

func (f *failNth) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		var rest []goredis.Cmder
		failed := false
		for _, cmd := range cmds {
			if f.fails(cmd) {
				cmd.SetErr(errCallFailed)
				failed = true
				continue
			}
			rest = append(rest, cmd)
		}
		if err := next(ctx, rest); err != nil || !failed {
			return err
		}
		return errCallFailed
	}
}

// fails reports whether cmd is the call to fail.
func (f *failNth) fails(cmd goredis.Cmder) bool {
	sc := f.sc
	if sc == nil {
		sc = revokeScript
	}
	if !f.armed.Load() || !isScriptCall(cmd, sc) {
		return false
	}
	return f.seen.Add(1) == f.n
}

// A revoke call that fails fails RevokeUser with the call's error, wrapped,
// and the count of the live grants ended before it; the index keeps its
// entries, and a later RevokeUser ends the rest.
func TestRevokeIndexReportsAFailedCall(t *testing.T) {
	f := &failNth{n: 101}
	h := newHookedHarness(t, f)
	g, _, _ := h.grant("web", "warm", time.Hour)
	require.NoError(t, h.s.RevokeGrant(h.ctx, g.ID))
	access := h.grants(manyGrants, "web", "alice", time.Hour)

	f.armed.Store(true)
	n, err := h.s.RevokeUser(h.ctx, "alice")
	f.armed.Store(false)
	require.Error(t, err)
	assert.ErrorIs(t, err, errCallFailed)
	assert.True(t, strings.HasPrefix(err.Error(), "redis: revoke user: "), err.Error())
	// The grants share one expiry: they are one page, read whole.
	assert.Equal(t, manyGrants-1, n, "every call of the failed pipeline but the failed one")
	ids, err := h.rdb.ZRange(h.ctx, h.s.userGrantsKey("alice"), 0, -1).Result()
	require.NoError(t, err)
	assert.Len(t, ids, manyGrants, "the index keeps its entries")

	m, err := h.s.RevokeUser(h.ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, manyGrants, n+m, "each live grant counted once, by one call or the other")
	for _, a := range access {
		assert.False(t, h.live(storage.KindAccess, a), "grant %s", a.GrantID)
	}
	ids, err = h.rdb.ZRange(h.ctx, h.s.userGrantsKey("alice"), 0, -1).Result()
	require.NoError(t, err)
	assert.Empty(t, ids)
}

// shrinker is a go-redis hook that, after the first index page it sees
// read, removes members from key, as the index script's pruning and other
// RevokeUser calls do while a scan runs.
type shrinker struct {
	rdb     func() goredis.UniversalClient
	key     string
	members []any
	once    atomic.Bool
}

func (s *shrinker) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (s *shrinker) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		if isScriptCall(cmd, indexPageScript) && s.rdb != nil && s.once.CompareAndSwap(false, true) {
			if zerr := s.rdb().ZRem(ctx, s.key, s.members...).Err(); zerr != nil {
				panic(zerr)
			}
		}
		return err
	}
}

func (s *shrinker) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// isScriptCall reports whether cmd runs sc.
func isScriptCall(cmd goredis.Cmder, sc *script) bool {
	args := cmd.Args()
	if len(args) < 2 || !strings.EqualFold(cmd.Name(), "evalsha") {
		return false
	}
	sha, ok := args[1].(*string)
	return ok && *sha == sc.sha
}

// Entries removed from the index while RevokeUser pages through it (the
// earliest ones, as pruning removes) shift the others' ranks; every grant
// present throughout is still revoked, however the index shrinks.
func TestRevokeIndexWhileTheIndexShrinks(t *testing.T) {
	s := &shrinker{}
	h := newHookedHarness(t, s)
	key := h.s.userGrantsKey("alice")
	var ghosts []any
	for i := range 3 * revokeBatch {
		id := "ghost-" + strconv.Itoa(i)
		score := h.clk.Now().Add(time.Minute + time.Duration(i)*time.Millisecond).UnixMilli()
		require.NoError(t, h.rdb.ZAdd(h.ctx, key, goredis.Z{Score: float64(score), Member: id}).Err())
		ghosts = append(ghosts, id)
	}
	access := h.grants(manyGrants, "web", "alice", time.Hour)
	s.key, s.members, s.rdb = key, ghosts, func() goredis.UniversalClient { return h.rdb }

	n, err := h.s.RevokeUser(h.ctx, "alice")
	require.NoError(t, err)
	require.True(t, s.once.Load(), "the index shrank during the scan")
	assert.Equal(t, manyGrants, n)
	for _, a := range access {
		assert.False(t, h.live(storage.KindAccess, a), "grant %s", a.GrantID)
	}
}

// Grants whose expiries tie in runs that straddle the pages' ends are
// all revoked, each counted once: a page stops before the run of its last
// score, which starts the next page.
func TestRevokeIndexTiesAcrossPages(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		var access []storage.TokenRef
		for i := range 3*revokeBatch + 5 {
			if i%7 == 0 {
				h.clk.Advance(time.Millisecond)
			}
			_, a, _ := h.grant("web", "alice", time.Hour)
			access = append(access, a)
		}
		n, err := h.s.RevokeUser(h.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, len(access), n)
		for _, a := range access {
			assert.False(t, h.live(storage.KindAccess, a), "grant %s", a.GrantID)
		}
		ids, err := h.rdb.ZRange(h.ctx, h.s.userGrantsKey("alice"), 0, -1).Result()
		require.NoError(t, err)
		assert.Empty(t, ids)
		ids, err = h.rdb.ZRange(h.ctx, h.s.clientGrantsKey("web"), 0, -1).Result()
		require.NoError(t, err)
		assert.Empty(t, ids, "every page's grants left the client's index too")
	})
}

// RevokeUser reads the index only through a script, which go-redis sends
// to the slot's master: a read-only command (ZRANGE, ZSCAN) may go to a
// replica (ClusterOptions.ReadOnly, RouteRandomly, RouteByLatency), which
// can lag behind the master, and a ZSCAN cursor means nothing on another
// node.
func TestRevokeIndexReadsOnTheMaster(t *testing.T) {
	rec := &cmdRecorder{}
	h := newHookedHarness(t, rec)
	h.grants(manyGrants, "web", "alice", time.Hour)
	rec.take()
	_, err := h.s.RevokeUser(h.ctx, "alice")
	require.NoError(t, err)
	names := rec.take()
	assert.Contains(t, names, "evalsha")
	for _, name := range names {
		assert.NotContains(t, []string{"zrange", "zscan", "zrangebyscore", "zrevrange", "zrevrangebyscore", "zrangestore"}, name)
	}
}

// RevokeUser whose pipeline is refused reports the refusal, not a
// decoding error, and ends nothing.
func TestRevokeIndexReportsARefusedPipeline(t *testing.T) {
	b := &breaker{refuses: func(cmds []goredis.Cmder) bool { // the pipelines of revoke script calls
		return isScriptCall(cmds[0], revokeScript)
	}}
	b.open.Store(true)
	h := newHookedHarness(t, b)
	_, access, _ := h.grant("web", "alice", time.Hour)
	n, err := h.s.RevokeUser(h.ctx, "alice")
	assert.ErrorIs(t, err, errOpen, "%v", err)
	assert.Zero(t, n)
	assert.True(t, h.live(storage.KindAccess, access))
}

// An extension whose indexing fails extends nothing (it fails closed): the
// session keeps the expiry its index entries cover, so that no later
// RevokeUser can miss it, even if no other extension comes to index it.
func TestExtendTokenIndexFailureExtendsNothing(t *testing.T) {
	f := &failNth{n: 1, sc: indexScript}
	h := newHookedHarness(t, f)
	_, _, session := h.grant("web", "alice", 24*time.Hour) // indexed to 30 h

	h.clk.Advance(8 * time.Hour)
	f.armed.Store(true)
	err := h.s.ExtendToken(h.ctx, session, h.clk.Now().Add(24*time.Hour)) // to 32 h, past 30 h: the index write fails
	f.armed.Store(false)
	require.ErrorIs(t, err, errCallFailed)

	h.clk.Advance(16*time.Hour - time.Second) // just before the old expiry: still live
	assert.True(t, h.live(storage.KindRefresh, session))
	h.clk.Advance(time.Second) // 24 h: the old expiry, not the one asked for
	assert.False(t, h.live(storage.KindRefresh, session), "the failed extension extended nothing")
}

// A sliding session whose extension fails to index it (the user's index
// on another node, failing over) is indexed and extended by the next
// extension, so that RevokeUser still finds it once the old index entry
// has expired: the grant's index horizon is recorded only after the
// indexes hold it.
func TestExtendTokenIndexFailureIsRetried(t *testing.T) {
	f := &failNth{n: 1, sc: indexScript}
	h := newHookedHarness(t, f)
	start := h.clk.Now()
	_, _, session := h.grant("web", "alice", 24*time.Hour) // indexed to 30 h; the 24 h token stands for a session

	h.clk.Advance(8 * time.Hour)
	f.armed.Store(true)
	err := h.s.ExtendToken(h.ctx, session, h.clk.Now().Add(24*time.Hour)) // past 30 h: reindex, which fails
	f.armed.Store(false)
	require.ErrorIs(t, err, errCallFailed)

	h.clk.Advance(2 * time.Hour)
	require.NoError(t, h.s.ExtendToken(h.ctx, session, h.clk.Now().Add(24*time.Hour)))

	h.clk.Advance(start.Add(31 * time.Hour).Sub(h.clk.Now())) // the first index entry's score has passed
	_, _, _ = h.grant("web", "alice", time.Hour)              // a new login prunes the index
	n, err := h.s.RevokeUser(h.ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "both of alice's grants, the extended one included")
	assert.False(t, h.live(storage.KindRefresh, session), "the extended session is revoked")
}

// Two instances share one Redis, B's clock 20 s behind A's. B issues a
// one-minute grant (index horizon +15 s). When A's clock has passed that
// horizon, while B still takes the grant for live, an index write by A
// must not prune the entry: A's RevokeUser would no longer find the grant,
// and B would go on accepting its token after the user was revoked. So
// too with B 4 min 50 s behind, within the five minutes of skew the store
// tolerates (indexSkewGrace).
func TestIndexKeepsEntriesForInstancesWithClocksBehind(t *testing.T) {
	for _, skew := range []time.Duration{20 * time.Second, 4*time.Minute + 50*time.Second} {
		t.Run(skew.String(), func(t *testing.T) {
			each(t, func(t *testing.T, h *harness) {
				ahead := testclock.New(h.clk.Now().Add(skew))
				a := New(h.rdb, Config{Prefix: h.prefix, Now: ahead.Now})
				now := h.clk.Now()
				g := &storage.Grant{ID: "skewgrant0000000000000", ClientID: "web", UserID: "alice", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
				access, at := h.newToken(storage.KindAccess, g.ID, time.Minute)
				require.NoError(t, h.s.CreateGrant(h.ctx, g, at)) // by B
				h.clk.Advance(58 * time.Second)
				ahead.Advance(58 * time.Second) // A: past the horizon, 75 s after the issue
				require.True(t, h.live(storage.KindAccess, access), "B takes the grant for live")
				ha := &harness{t: t, s: a, rdb: h.rdb, clk: ahead, prefix: h.prefix, ctx: h.ctx}
				ha.grant("web", "alice", time.Hour) // an index write by A, which prunes
				n, err := a.RevokeUser(h.ctx, "alice")
				require.NoError(t, err)
				assert.Equal(t, 1, n, "the grant A issued; B's looks expired to A, ended uncounted")
				assert.False(t, h.live(storage.KindAccess, access), "B no longer accepts the revoked user's token")
			})
		})
	}
}

// An exchange whose new expiry passes the grant's index horizon, and
// whose index write then fails (the user's index on another node,
// failing over), consumes nothing: the client's retry with the same
// refresh token is no reuse, and succeeds once the index can be written.
// The grant is then indexed up to its new expiry, so that RevokeUser finds
// it after the first index entry has expired.
func TestExchangeIndexFailureConsumesNothing(t *testing.T) {
	f := &failNth{n: 1, sc: indexScript}
	h := newHookedHarness(t, f)
	start := h.clk.Now()
	_, _, refresh := h.grant("web", "alice", 24*time.Hour) // indexed to 30 h

	h.clk.Advance(8 * time.Hour)
	x, next := h.exchange("web", refresh) // a 24 h refresh token: to 32 h, past 30 h
	f.armed.Store(true)
	_, err := h.s.ExchangeToken(h.ctx, x)
	f.armed.Store(false)
	require.ErrorIs(t, err, errCallFailed)
	assert.True(t, h.live(storage.KindRefresh, refresh), "the presented token is not consumed")
	assert.False(t, h.live(storage.KindRefresh, next[1]), "no new token is stored")

	g, err := h.s.ExchangeToken(h.ctx, x)
	require.NoError(t, err, "the retry is no reuse")
	assert.Equal(t, "alice", g.UserID)
	assert.True(t, h.live(storage.KindRefresh, next[1]))

	h.clk.Advance(start.Add(31 * time.Hour).Sub(h.clk.Now())) // the first index entry's score has passed
	_, _, _ = h.grant("web", "alice", time.Hour)              // a new login prunes the index
	n, err := h.s.RevokeUser(h.ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "both of alice's grants, the exchanged one included")
	assert.False(t, h.live(storage.KindRefresh, next[1]))
}

// An index write never lowers an entry's score: of two concurrent
// extensions of a grant that both index it first, the one that wants the
// nearer horizon may write last, after the other has extended the grant
// past it, and its entry must not then be pruned before the grant ends.
func TestIndexNeverLowersAScore(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		g, access, _ := h.grant("web", "alice", time.Hour)
		now := h.clk.Now()
		require.NoError(t, h.s.ExtendToken(h.ctx, access, now.Add(48*time.Hour)))
		keys := []string{h.s.userGrantsKey("alice"), h.s.clientGrantsKey("web")}
		var before []float64
		for _, k := range keys {
			sc, err := h.rdb.ZScore(h.ctx, k, g.ID).Result()
			require.NoError(t, err)
			require.GreaterOrEqual(t, sc, float64(now.Add(48*time.Hour).UnixMilli()), "%s covers the extension", k)
			before = append(before, sc)
		}
		// The late write of an extension to two hours.
		require.NoError(t, h.s.index(h.ctx, now, g.ID, "alice", "web", indexHorizon(now, now.Add(2*time.Hour))))
		for i, k := range keys {
			sc, err := h.rdb.ZScore(h.ctx, k, g.ID).Result()
			require.NoError(t, err)
			assert.Equal(t, before[i], sc, "score in %s", k)
		}
	})
}

// An extension to exactly the horizon the grant's index entries hold is
// within it: it extends at once and leaves the entries as they are.
func TestExtendTokenToTheIndexHorizon(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		g, access, _ := h.grant("web", "alice", time.Hour)
		now := h.clk.Now()
		ix := indexHorizon(now, now.Add(time.Hour))
		key := h.s.userGrantsKey("alice")
		before, err := h.rdb.ZScore(h.ctx, key, g.ID).Result()
		require.NoError(t, err)
		require.Equal(t, float64(scoreMillis(ix)), before)
		require.NoError(t, h.s.ExtendToken(h.ctx, access, ix))
		after, err := h.rdb.ZScore(h.ctx, key, g.ID).Result()
		require.NoError(t, err)
		assert.Equal(t, before, after, "no index write")
		h.clk.Advance(ix.Sub(now) - time.Nanosecond)
		assert.True(t, h.live(storage.KindAccess, access), "extended")
	})
}

// revokeResendHook runs each pipeline that holds a revoke script call
// twice and keeps the second replies, as go-redis does when the
// connection fails before the replies of a pipeline that Redis ran
// arrive (MaxRetries, on by default): the whole pipeline is sent again.
type revokeResendHook struct{}

func (revokeResendHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (revokeResendHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }

func (revokeResendHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, cmd := range cmds {
			if isScriptCall(cmd, revokeScript) {
				if err := next(ctx, cmds); err != nil {
					return err
				}
				for _, c := range cmds {
					c.SetErr(nil)
				}
				break
			}
		}
		return next(ctx, cmds)
	}
}

// A page of revocations that Redis ran and whose replies were lost, sent
// again by go-redis's retry, counts the live grants it ended: its second
// run found them revoked, and RevokeUser and RevokeClient reported none
// (oauth2ctl then told of a client no longer stored "nothing revoked").
// A later revocation that finds one of them again still does not count
// it.
func TestRevokeIndexResentAfterALostReplyCountsOnce(t *testing.T) {
	h := newHookedHarness(t, revokeResendHook{})
	loadScripts(t, h, revokeScript) // else the first run is an EVAL, not resent
	access := h.grants(3, "web", "alice", time.Hour)
	h.grants(2, "web", "bob", time.Hour)

	n, err := h.s.RevokeUser(h.ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 3, n, "alice's live grants, each counted once")
	for _, a := range access {
		assert.False(t, h.live(storage.KindAccess, a), "grant %s", a.GrantID)
	}
	n, err = h.s.RevokeClient(h.ctx, "web")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "bob's live grants: alice's had ended")

	// An entry of an ended grant, as an exchange racing the revocation
	// leaves, is revoked again by a later call, which does not count it.
	score := float64(h.clk.Now().Add(2 * time.Hour).UnixMilli())
	require.NoError(t, h.rdb.ZAdd(h.ctx, h.s.userGrantsKey("alice"), goredis.Z{Score: score, Member: access[0].GrantID}).Err())
	h.grants(1, "web", "carol", time.Hour)
	n, err = h.s.RevokeUser(h.ctx, "alice")
	require.NoError(t, err)
	assert.Zero(t, n, "alice's grants ended before this call")
	n, err = h.s.RevokeClient(h.ctx, "web")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "carol's grant only")
}

// A page of more than a thousand grants of one score (read whole), which
// the next page's read removes from the index in batches of a thousand
// members, leaves no entry behind.
func TestRevokeIndexRemovesALargePageWhole(t *testing.T) {
	h := newHookedHarness(t, &tripCounter{})
	const n = 1001 // one score: the grants share their expiry
	h.grants(n, "web", "alice", time.Hour)
	h.clk.Advance(time.Millisecond)
	h.grants(1, "web", "alice", time.Hour) // a page after it
	got, err := h.s.RevokeUser(h.ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, n+1, got)
	left, err := h.rdb.ZCard(h.ctx, h.s.userGrantsKey("alice")).Result()
	require.NoError(t, err)
	assert.Zero(t, left, "entries left in the index")
}

// A revocation whose last removal of index entries fails (after the last
// page) reports that error with the count of the grants it ended; the
// grants stay ended, and a later call, which finds them ended, removes
// the entries.
func TestRevokeIndexReportsAFailedLastUnindex(t *testing.T) {
	f := &failNth{n: 1, sc: unindexScript}
	h := newHookedHarness(t, f)
	access := h.grants(2, "web", "alice", time.Hour)
	f.armed.Store(true)
	n, err := h.s.RevokeUser(h.ctx, "alice")
	f.armed.Store(false)
	assert.ErrorIs(t, err, errCallFailed)
	assert.Equal(t, 2, n, "the grants it ended")
	for _, a := range access {
		assert.False(t, h.live(storage.KindAccess, a), "grant %s", a.GrantID)
	}
	n, err = h.s.RevokeUser(h.ctx, "alice")
	require.NoError(t, err)
	assert.Zero(t, n)
	left, err := h.rdb.ZCard(h.ctx, h.s.userGrantsKey("alice")).Result()
	require.NoError(t, err)
	assert.Zero(t, left, "entries left in the index")
}

// appendUnindex splits its members into calls of at most unindexBatch,
// each of which Redis runs: a ZREM of ten thousand members in one call
// fails, as Lua's unpack cannot pass that many (a page of tied grants,
// read whole, can hold them).
func TestAppendUnindexBatches(t *testing.T) {
	h := newHookedHarness(t, &tripCounter{})
	key := h.s.userGrantsKey("alice")
	const n = 10000
	ids := make([]string, n)
	zs := make([]goredis.Z, n)
	for i := range ids {
		ids[i] = "g" + strconv.Itoa(i)
		zs[i] = goredis.Z{Score: 1, Member: ids[i]}
	}
	require.NoError(t, h.rdb.ZAdd(h.ctx, key, zs...).Err())
	calls := appendUnindex(nil, key, ids)
	for _, c := range calls {
		assert.LessOrEqual(t, len(c.args)-4, unindexBatch)
	}
	_, err := runPipelined(h.ctx, h.rdb, calls...)
	require.NoError(t, err)
	left, err := h.rdb.ZCard(h.ctx, key).Result()
	require.NoError(t, err)
	assert.Zero(t, left)
}

// A grant whose recorded index horizon (ix) is below its expiry, as no
// version writes it but a damaged key or another tool may leave it, is
// indexed up to its expiry by an exchange whose new tokens end sooner:
// the indexes then hold the grant for as long as it lives, and the
// exchange succeeds instead of asking for ever for a nearer horizon.
func TestExchangeIndexesAGrantPastItsDamagedHorizon(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		g, _, refresh := h.grant("web", "alice", 48*time.Hour)
		now := h.clk.Now()
		_, gkey, _ := h.s.grantKeys(g.ID)
		require.NoError(t, h.rdb.HSet(h.ctx, gkey, "ix", instant(now.Add(time.Hour))).Err())

		x, next := h.exchange("web", refresh) // tokens of an hour and a day
		_, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		assert.True(t, h.live(storage.KindRefresh, next[1]))
		for _, k := range []string{h.s.userGrantsKey("alice"), h.s.clientGrantsKey("web")} {
			sc, err := h.rdb.ZScore(h.ctx, k, g.ID).Result()
			require.NoError(t, err)
			assert.GreaterOrEqual(t, sc, float64(scoreMillis(g.ExpiresAt)), "%s holds the grant until it expires", k)
		}
	})
}

// An index write prunes the entries whose score is more than
// indexSkewGrace before its now, and no other: an entry whose score is
// exactly that far back is kept (the grace is inclusive, to the
// millisecond, as the scores are).
func TestIndexPrunesOnlyPastTheSkewGrace(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		now := h.clk.Now().Truncate(time.Millisecond)
		edge, past := "edgegrant0000000000000", "pastgrant0000000000000"
		earlier := now.Add(-time.Hour)
		require.NoError(t, h.s.index(h.ctx, earlier, edge, "alice", "web", now.Add(-indexSkewGrace)))
		require.NoError(t, h.s.index(h.ctx, earlier, past, "alice", "web", now.Add(-indexSkewGrace-time.Millisecond)))
		require.NoError(t, h.s.index(h.ctx, now, "nextgrant0000000000000", "alice", "web", now.Add(time.Hour)))
		for _, k := range []string{h.s.userGrantsKey("alice"), h.s.clientGrantsKey("web")} {
			assert.NoError(t, h.rdb.ZScore(h.ctx, k, edge).Err(), "%s keeps the entry at the grace's end", k)
			assert.ErrorIs(t, h.rdb.ZScore(h.ctx, k, past).Err(), goredis.Nil, "%s prunes the entry past it", k)
		}
	})
}
