package redis

import (
	"context"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/testenv"
	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// tripCounter is a go-redis hook that counts round trips: a command sent
// alone is one, a pipeline is one (per node, sent concurrently).
type tripCounter struct{ n atomic.Int64 }

func (c *tripCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *tripCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *tripCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// count returns how many round trips fn made, after a warm-up call of it
// that loads the scripts.
func (c *tripCounter) count(fn func()) int64 {
	before := c.n.Load()
	fn()
	return c.n.Load() - before
}

// The hot paths' round trips on a single node: validation is one
// pipeline of two reads; a refresh without Check is the exchange script alone while the grant's
// expiry stays within its index horizon; past it, the script, one
// pipeline for the user and client indexes, and the script again; a new
// grant is one pipeline of
// the index scripts and the create script.
func TestRoundTrips(t *testing.T) {
	var trips tripCounter
	h := newHookedHarness(t, &trips)
	s, rdb := h.s, h.rdb

	// Warm up: the first call of each script may be NOSCRIPT + EVAL.
	_, access, refresh := h.grant("web", "alice", 24*time.Hour)
	x, next := h.exchange("web", refresh)
	_, err := s.ExchangeToken(h.ctx, x)
	require.NoError(t, err)
	require.True(t, h.live(storage.KindAccess, next[0]))
	// ExtendToken's script too, on a grant of its own: the server's
	// script cache may have been flushed since another test loaded it.
	_, _, other := h.grant("web", "bob", 24*time.Hour)
	require.NoError(t, s.ExtendToken(h.ctx, other, h.clk.Now().Add(25*time.Hour)))

	assert.EqualValues(t, 1, trips.count(func() { h.grant("web", "alice", 24*time.Hour) }), "CreateGrant")
	assert.EqualValues(t, 1, trips.count(func() { h.live(storage.KindAccess, next[0]) }), "LookupToken")
	assert.EqualValues(t, 1, trips.count(func() { h.live(storage.KindAccess, access) }), "LookupToken of a revoked-by-rotation token")
	h.clk.Advance(time.Minute) // the grant's expiry moves, within the horizon
	x, next = h.exchange("web", next[1])
	assert.EqualValues(t, 1, trips.count(func() {
		_, err := s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
	}), "ExchangeToken without Check")
	x, next = h.exchange("web", next[1])
	x.Bind = "b1.the-client"
	assert.EqualValues(t, 1, trips.count(func() {
		_, err := s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
	}), "ExchangeToken that binds the grant")

	// Past the horizon (a quarter of the grant's lifetime beyond its
	// expiry), the exchange raises the index entries first.
	h.clk.Advance(7 * time.Hour)
	x, next = h.exchange("web", next[1])
	assert.EqualValues(t, 3, trips.count(func() {
		_, err := s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
	}), "ExchangeToken past the index horizon: the script, the indexes, the script again")
	score, err := rdb.ZScore(h.ctx, s.userGrantsKey("alice"), next[1].GrantID).Result()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, int64(score), x.Issue[1].ExpiresAt.UnixMilli(), "indexed past the new expiry")
	// The new horizon was recorded: the next exchange is the script alone.
	x, next = h.exchange("web", next[1])
	assert.EqualValues(t, 1, trips.count(func() {
		_, err := s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
	}), "ExchangeToken within the horizon the previous one recorded")
	// With a Check, past the horizon: the read-only script, the script,
	// the indexes, the script again.
	h.clk.Advance(7 * time.Hour)
	x, next = h.exchange("web", next[1])
	x.Check = func(*storage.Grant) error { return nil }
	assert.EqualValues(t, 4, trips.count(func() {
		_, err := s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
	}), "ExchangeToken with Check past the index horizon")
	score, err = rdb.ZScore(h.ctx, s.userGrantsKey("alice"), next[1].GrantID).Result()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, int64(score), x.Issue[1].ExpiresAt.UnixMilli(), "indexed past the new expiry")

	// A sliding session's extension follows the same horizon.
	newExpiry := h.clk.Now().Add(24*time.Hour + time.Minute)
	assert.EqualValues(t, 1, trips.count(func() {
		require.NoError(t, s.ExtendToken(h.ctx, next[1], newExpiry))
	}), "ExtendToken within the index horizon")
	newExpiry = h.clk.Now().Add(40 * time.Hour)
	assert.EqualValues(t, 3, trips.count(func() {
		require.NoError(t, s.ExtendToken(h.ctx, next[1], newExpiry))
	}), "ExtendToken past the index horizon: the script, the indexes, then the horizon recorded")
	score, err = rdb.ZScore(h.ctx, s.userGrantsKey("alice"), next[1].GrantID).Result()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, int64(score), newExpiry.UnixMilli(), "indexed past the extended expiry")
	// The new horizon was recorded: the next extension within it is the
	// script alone again.
	newExpiry = newExpiry.Add(time.Minute)
	assert.EqualValues(t, 1, trips.count(func() {
		require.NoError(t, s.ExtendToken(h.ctx, next[1], newExpiry))
	}), "ExtendToken within the horizon the previous extension recorded")
}

// cmdRecorder is a go-redis hook that records the names of the commands
// sent, alone or in a pipeline.
type cmdRecorder struct {
	mu    sync.Mutex
	names []string
}

func (r *cmdRecorder) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (r *cmdRecorder) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.record(cmd)
		return next(ctx, cmd)
	}
}

func (r *cmdRecorder) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		r.record(cmds...)
		return next(ctx, cmds)
	}
}

func (r *cmdRecorder) record(cmds ...goredis.Cmder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cmds {
		r.names = append(r.names, strings.ToLower(c.Name()))
	}
}

// take returns the names recorded since the last take.
func (r *cmdRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := r.names
	r.names = nil
	return names
}

// Validation only reads, so it runs no script (a script costs the server
// several times the reads it makes), nor a MULTI/EXEC: it is two HMGETs
// in one pipeline, on a single node and on a cluster.
func TestLookupToken_RunsNoScript(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			var rdb goredis.UniversalClient
			switch c := tp.client(t).(type) {
			case *goredis.Client:
				rdb = goredis.NewClient(c.Options())
			case *goredis.ClusterClient:
				rdb = goredis.NewClusterClient(c.Options())
			}
			t.Cleanup(func() { _ = rdb.Close() })
			var rec cmdRecorder
			rdb.AddHook(&rec)
			clk := newFakeClock()
			s, prefix := newStore(t, rdb, clk.Now)
			h := &harness{t: t, s: s, rdb: rdb, clk: clk, prefix: prefix, ctx: t.Context()}
			_, access, _ := h.grant("web", "alice", time.Hour)
			rec.take()
			require.True(t, h.live(storage.KindAccess, access))
			names := rec.take()
			assert.NotContains(t, names, "evalsha")
			assert.NotContains(t, names, "eval")
			assert.Equal(t, []string{"hmget", "hmget"}, names)
		})
	}
}

// A server that lost its script cache (a restart, SCRIPT FLUSH) still gets
// its indexes updated: the pipeline's NOSCRIPT is retried with the body.
func TestIndexSurvivesScriptFlush(t *testing.T) {
	h := newFlushHarness(t)
	h.grant("web", "alice", 24*time.Hour)
	require.NoError(t, h.rdb.ScriptFlush(h.ctx).Err())
	g, access, _ := h.grant("web", "alice", 24*time.Hour)
	n, err := h.s.RevokeUser(h.ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "both grants were indexed")
	assert.False(t, h.live(storage.KindAccess, access), "grant %s revoked", g.ID)
}

// When the server has cached some of a new grant's scripts and not the
// others, only the calls answered NOSCRIPT are sent again: the grant is
// written once (a second create would find it and fail) and indexed.
func TestCreateGrantRetriesOnlyWhatWasNotCached(t *testing.T) {
	for _, cached := range []*script{indexScript, createScript} {
		h := newFlushHarness(t)
		require.NoError(t, h.rdb.ScriptFlush(h.ctx).Err())
		require.NoError(t, h.rdb.ScriptLoad(h.ctx, cached.src).Err())
		g, access, _ := h.grant("web", "alice", 24*time.Hour)
		assert.True(t, h.live(storage.KindAccess, access))
		ids, err := h.rdb.ZRange(h.ctx, h.s.userGrantsKey("alice"), 0, -1).Result()
		require.NoError(t, err)
		assert.Equal(t, []string{g.ID}, ids, "indexed")
	}
}

// newHookedHarness returns a harness on a single-node client of its own,
// with hook added to it.
func newHookedHarness(t *testing.T, hook goredis.Hook) *harness {
	t.Helper()
	rdb := hookedClient(t, hook)
	clk := newFakeClock()
	s, prefix := newStore(t, rdb, clk.Now)
	return &harness{t: t, s: s, rdb: rdb, clk: clk, prefix: prefix, ctx: t.Context()}
}

// hookedClient returns a single-node client of its own, with hook added
// to it, closed when t ends.
func hookedClient(t *testing.T, hook goredis.Hook) *goredis.Client {
	t.Helper()
	base := singleClient(t).(*goredis.Client)
	rdb := goredis.NewClient(base.Options())
	t.Cleanup(func() { _ = rdb.Close() })
	rdb.AddHook(hook)
	return rdb
}

// newFlushHarness returns a harness on a redis-server of its own, so that
// flushing its scripts disturbs no other test.
func newFlushHarness(t *testing.T) *harness {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: startRedis(t)})
	t.Cleanup(func() { _ = rdb.Close() })
	clk := newFakeClock()
	s := New(rdb, Config{Prefix: "flush:", Now: clk.Now})
	return &harness{t: t, s: s, rdb: rdb, clk: clk, prefix: "flush:", ctx: t.Context()}
}

// startRedis starts a throwaway redis-server on a free loopback port and
// returns its address; it is stopped when t ends.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Skipf(t, "redis-server not found: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	require.NoError(t, ln.Close())
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(t.Context()).Err() != nil {
		require.True(t, time.Now().Before(deadline), "redis-server on %s did not start", addr)
		time.Sleep(20 * time.Millisecond)
	}
	return addr
}

// resendHook sends each exchangeScript and createScript command twice
// and keeps the second reply, as go-redis does when the first reply is
// lost after the server ran the command (MaxRetries, on by default).
type resendHook struct{}

func (resendHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (resendHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if isScriptCall(cmd, exchangeScript) {
			if err := next(ctx, cmd); err != nil {
				return err
			}
			cmd.SetErr(nil)
		}
		return next(ctx, cmd)
	}
}

func (resendHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if slices.ContainsFunc(cmds, func(c goredis.Cmder) bool { return isScriptCall(c, createScript) }) {
			if err := next(ctx, cmds); err != nil {
				return err
			}
			for _, c := range cmds {
				c.SetErr(nil)
			}
		}
		return next(ctx, cmds)
	}
}

// A grant creation that Redis ran and whose reply was lost, sent again by
// the client's retry, succeeds: it used to answer ErrAlreadyExists for the
// grant it had made. Another creation under the grant's ID still fails.
func TestCreateRetriedAfterALostReplySucceeds(t *testing.T) {
	h := newHookedHarness(t, resendHook{})
	loadScripts(t, h, createScript) // else the first run is an EVAL, not resent
	g, access, _ := h.grant("web", "alice", time.Hour)
	assert.True(t, h.live(storage.KindAccess, access))

	_, other := h.newToken(storage.KindAccess, g.ID, time.Hour)
	assert.ErrorIs(t, h.s.CreateGrant(h.ctx, g, other), storage.ErrAlreadyExists, "the same grant with another token")
	// One of the tokens stored and one that is not: no resend either.
	stored := storage.Token{Hash: access.Hash, Kind: storage.KindAccess, GrantID: g.ID, IssuedAt: other.IssuedAt, ExpiresAt: other.ExpiresAt}
	newRef, newTok := h.newToken(storage.KindAccess, g.ID, time.Hour)
	assert.ErrorIs(t, h.s.CreateGrant(h.ctx, g, stored, newTok), storage.ErrAlreadyExists, "the same grant with one of its tokens and another")
	assert.False(t, h.live(storage.KindAccess, newRef), "the other token is not stored")
	g2 := *g
	g2.UserID = "mallory"
	_, again := h.newToken(storage.KindAccess, g.ID, time.Hour)
	assert.ErrorIs(t, h.s.CreateGrant(h.ctx, &g2, again), storage.ErrAlreadyExists, "another grant of that ID")

	// With the very tokens stored, a creation that differs in client,
	// user or creation instant is no resend either.
	gid, err := token.NewGrantID()
	require.NoError(t, err)
	now := h.clk.Now()
	first := storage.Grant{ID: gid, ClientID: "web", UserID: "alice", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	_, tok := h.newToken(storage.KindAccess, gid, time.Hour)
	require.NoError(t, h.s.CreateGrant(h.ctx, &first, tok))
	for what, change := range map[string]func(*storage.Grant){
		"client":    func(g *storage.Grant) { g.ClientID = "other" },
		"user":      func(g *storage.Grant) { g.UserID = "mallory" },
		"CreatedAt": func(g *storage.Grant) { g.CreatedAt = g.CreatedAt.Add(time.Nanosecond) },
	} {
		g := first
		change(&g)
		assert.ErrorIs(t, h.s.CreateGrant(h.ctx, &g, tok), storage.ErrAlreadyExists, "the same tokens, another %s", what)
	}
}

// An exchange that Redis ran and whose reply was lost, sent again by the
// client's retry, is the same exchange: it succeeds again and ends
// nothing. Without the consumption mark, the retry found the token
// consumed and revoked the grant as reuse: one legitimate refresh logged
// the user out. A real second presentation is still reuse.
func TestExchangeRetriedAfterALostReplyIsNotReuse(t *testing.T) {
	for _, check := range []bool{false, true} {
		h := newHookedHarness(t, resendHook{})
		loadScripts(t, h, exchangeScript) // else the first run is an EVAL, not resent
		_, _, refresh := h.grant("web", "alice", 24*time.Hour)
		x, next := h.exchange("web", refresh)
		if check {
			x.Check = func(*storage.Grant) error { return nil }
		}
		g, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err, "check %v", check)
		assert.Equal(t, "alice", g.UserID)
		assert.True(t, h.live(storage.KindAccess, next[0]), "check %v: the new tokens live", check)
		assert.True(t, h.live(storage.KindRefresh, next[1]))

		x2, _ := h.exchange("web", refresh) // the old token again, with new tokens of its own
		_, err = h.s.ExchangeToken(h.ctx, x2)
		assert.ErrorIs(t, err, storage.ErrTokenReused, "check %v: a replay is reuse", check)
		assert.False(t, h.live(storage.KindRefresh, next[1]), "and ends the grant")
	}
}

// loadScripts caches scripts on h's server, so that they run as EVALSHA.
func loadScripts(t *testing.T, h *harness, scripts ...*script) {
	t.Helper()
	for _, sc := range scripts {
		require.NoError(t, h.rdb.ScriptLoad(h.ctx, sc.src).Err())
	}
}

// A grant created without tokens is ErrAlreadyExists the second time,
// resent or not: nothing tells the two apart, and every store refuses a
// second creation.
func TestCreateWithoutTokensTwiceIsAlreadyExists(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		now := h.clk.Now()
		g := &storage.Grant{ID: "dupgrant00000000000000", ClientID: "web", UserID: "alice", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		require.NoError(t, h.s.CreateGrant(h.ctx, g))
		other := *g
		other.Scopes = []string{"admin"}
		assert.ErrorIs(t, h.s.CreateGrant(h.ctx, &other), storage.ErrAlreadyExists)
	})
}

// A creation that would write over a token key already there (a
// consumed token, which outlives its grant's hash by the tombstone
// grace, under a grant ID given again) is ErrAlreadyExists and leaves
// that token as it was: consumed, not made live again.
func TestCreateOverALeftoverTokenIsAlreadyExists(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		now := h.clk.Now()
		gid, err := token.NewGrantID()
		require.NoError(t, err)
		ref, tok := h.newToken(storage.KindRefresh, gid, time.Hour)
		tkey := tokenKey(h.s.grantBase(gid), ref.Hash)
		require.NoError(t, h.rdb.HSet(h.ctx, tkey, "kind", strconv.Itoa(int(storage.KindRefresh)),
			"scopes", "", "issued", "", "expires", instant(now.Add(time.Hour)), "consumed", "1").Err())
		require.NoError(t, h.rdb.PExpire(h.ctx, tkey, time.Hour).Err())

		g := &storage.Grant{ID: gid, ClientID: "web", UserID: "alice", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		assert.ErrorIs(t, h.s.CreateGrant(h.ctx, g, tok), storage.ErrAlreadyExists)
		consumed, err := h.rdb.HGet(h.ctx, tkey, "consumed").Result()
		require.NoError(t, err)
		assert.Equal(t, "1", consumed, "the leftover stays consumed")
		assert.False(t, h.live(storage.KindRefresh, ref))
	})
}

// A token consumed by this version stays "consumed" "1", which the
// previous version's revoke keeps (it deleted every token whose mark was
// not "1"): during a rolling upgrade, a grant revoked by an old instance
// still tells the reuse of a token a new one consumed.
func TestConsumedTokensKeepTheMarkOlderVersionsRead(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		_, _, refresh := h.grant("web", "alice", 24*time.Hour)
		x, _ := h.exchange("web", refresh)
		_, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		consumed, err := h.rdb.HGet(h.ctx, tokenKey(h.s.grantBase(refresh.GrantID), refresh.Hash), "consumed").Result()
		require.NoError(t, err)
		assert.Equal(t, "1", consumed)
	})
}

// revokeBetweenHook sends each committing exchangeScript command twice,
// as resendHook does, and revokes the grant between the two sends.
type revokeBetweenHook struct {
	revoke func()
}

func (*revokeBetweenHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *revokeBetweenHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if isScriptCall(cmd, exchangeScript) && h.revoke != nil {
			if err := next(ctx, cmd); err != nil {
				return err
			}
			h.revoke()
			cmd.SetErr(nil)
		}
		return next(ctx, cmd)
	}
}

func (*revokeBetweenHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// An exchange resent after its grant was revoked (a logout between the
// lost reply and the resend) is not found, not reuse: nothing was
// presented twice, and reuse is what operators are told to page on. With
// a grant of a day, the first send commits (the new refresh token does
// not move the grant's expiry) and the resend finds the token it
// consumed; with a grant of an hour, the first send asks for indexing
// and writes nothing.
func TestExchangeResentAfterRevocationIsNotReuse(t *testing.T) {
	for _, life := range []time.Duration{24 * time.Hour, time.Hour} {
		t.Run(life.String(), func(t *testing.T) {
			hook := &revokeBetweenHook{}
			h := newHookedHarness(t, hook)
			loadScripts(t, h, exchangeScript)
			g, _, refresh := h.grant("web", "alice", life)
			x, next := h.exchange("web", refresh)
			hook.revoke = func() { require.NoError(t, h.s.RevokeGrant(context.Background(), g.ID)) }
			_, err := h.s.ExchangeToken(h.ctx, x)
			assert.ErrorIs(t, err, storage.ErrNotFound)
			assert.NotErrorIs(t, err, storage.ErrTokenReused)
			assert.False(t, h.live(storage.KindRefresh, next[1]), "the grant stays revoked")
		})
	}
}
