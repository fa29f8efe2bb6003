package redis

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// loggedOutForever stores a grant of client for user with one session
// token, both expiring "never" (the year 2262), and revokes it.
func (h *harness) loggedOutForever(clientID, userID string) (gid string, session storage.TokenRef) {
	h.t.Helper()
	gid, err := token.NewGrantID()
	require.NoError(h.t, err)
	now := h.clk.Now()
	never := time.Unix(0, 1<<63-1).UTC()
	session, st := h.newToken(storage.KindSession, gid, never.Sub(now))
	st.ExpiresAt = never
	require.NoError(h.t, h.s.CreateGrant(h.ctx, &storage.Grant{ID: gid, ClientID: clientID, UserID: userID, CreatedAt: now, ExpiresAt: never}, st))
	require.NoError(h.t, h.s.RevokeGrant(h.ctx, gid))
	return gid, session
}

// reuse exchanges refresh, then presents it again: reuse, which revokes
// its grant.
func (h *harness) reuse(clientID string, refresh storage.TokenRef) {
	h.t.Helper()
	x, _ := h.exchange(clientID, refresh)
	_, err := h.s.ExchangeToken(h.ctx, x)
	require.NoError(h.t, err)
	x, _ = h.exchange(clientID, refresh)
	_, err = h.s.ExchangeToken(h.ctx, x)
	require.ErrorIs(h.t, err, storage.ErrTokenReused)
}

// A revoked grant's hash and token set stay, revoked, only as long as one
// of its consumed tokens can still be presented as reuse (and the skew
// grace more), not for the rest of the grant's lifetime: a session
// logged out, or a grant revoked right after its creation, has nothing
// left to detect, and one that lives for ever ("never" expires is the
// year 2262) would keep its user ID, username and binding in Redis for
// ever, past every logout, however many there are.
func TestRevokedGrantTombstoneLastsAsLongAsItsConsumedTokens(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		pttl := func(key string) time.Duration {
			t.Helper()
			d, err := h.rdb.PTTL(h.ctx, key).Result()
			require.NoError(t, err)
			return d
		}

		// A session that never expires, logged out.
		gid, session := h.loggedOutForever("", "alice")
		assert.False(t, h.live(storage.KindSession, session))
		base := h.s.grantBase(gid)
		d := pttl(grantKey(base))
		assert.LessOrEqual(t, d, indexSkewGrace, "the tombstone of a grant without consumed tokens")
		assert.Greater(t, d, indexSkewGrace-5*time.Second, "the tombstone keeps the skew grace: a creation resent finds it")

		// A grant rotated once (the consumed refresh token lives an hour,
		// the new one a day), revoked: its tombstone lasts the hour.
		g, _, refresh := h.grant("web", "bob", time.Hour)
		x, _ := h.exchange("web", refresh)
		_, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		require.NoError(t, h.s.RevokeGrant(h.ctx, g.ID))
		base = h.s.grantBase(g.ID)
		for _, k := range []string{grantKey(base), tokenSetKey(base)} {
			d := pttl(k)
			assert.Greater(t, d, time.Hour+indexSkewGrace-5*time.Second, "PTTL of %s: the consumed token is still reuse, on an instance whose clock is behind too", k)
			assert.LessOrEqual(t, d, time.Hour+indexSkewGrace, "PTTL of %s", k)
		}
		x2, _ := h.exchange("web", refresh)
		_, err = h.s.ExchangeToken(h.ctx, x2)
		assert.ErrorIs(t, err, storage.ErrTokenReused, "the consumed token of the revoked grant is reuse")

		// Reuse revokes the same way.
		g, _, refresh = h.grant("web", "carol", time.Hour)
		h.reuse("web", refresh)
		assert.LessOrEqual(t, pttl(grantKey(h.s.grantBase(g.ID))), time.Hour+indexSkewGrace, "the tombstone of a grant revoked by reuse")
	})
}

// Once a revoked grant's tombstone is gone, nothing in Redis may still
// name the grant's user or keep its index entries: revocation through an
// index reads a missing grant as one CreateGrant may be writing and keeps
// its entry, so an entry a revocation left would stay until its score
// (for a grant that never expires, the year 2262), holding the user ID in
// its key's name and walked by every RevokeUser and RevokeClient.
func TestRevokedGrantLeavesNoIndexEntryPastItsTombstone(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		gid, _ := h.loggedOutForever("web", "dave")

		// A grant of a refresh chain revoked by reuse.
		g, _, refresh := h.grant("web", "dave", time.Hour)
		h.reuse("web", refresh)

		// The tombstones expire (as Redis expires them, past their TTL).
		for _, id := range []string{gid, g.ID} {
			base := h.s.grantBase(id)
			require.NoError(t, h.rdb.Del(h.ctx, grantKey(base), tokenSetKey(base)).Err())
		}
		n, err := h.s.RevokeUser(h.ctx, "dave")
		require.NoError(t, err)
		assert.Zero(t, n)
		for _, key := range []string{h.s.userGrantsKey("dave"), h.s.clientGrantsKey("web")} {
			for _, id := range []string{gid, g.ID} {
				err := h.rdb.ZScore(h.ctx, key, id).Err()
				assert.ErrorIs(t, err, goredis.Nil, "%s still lists the revoked grant %s", key, id)
			}
		}
	})
}

// failZRem is a go-redis hook that fails every ZREM sent in a pipeline
// while armed.
type failZRem struct{ armed atomic.Bool }

func (f *failZRem) DialHook(next goredis.DialHook) goredis.DialHook          { return next }
func (f *failZRem) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }
func (f *failZRem) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if f.armed.Load() {
			for _, cmd := range cmds {
				if cmd.Name() == "zrem" {
					cmd.SetErr(errCallFailed)
					return errCallFailed
				}
			}
		}
		return next(ctx, cmds)
	}
}

// RevokeGrant removes the grant's index entries on a best-effort basis:
// when that fails, the grant is revoked all the same and RevokeGrant
// succeeds (a logout must not answer 503 for an entry left to expire).
func TestRevokeGrantSucceedsWhenUnindexingFails(t *testing.T) {
	f := &failZRem{}
	h := newHookedHarness(t, f)
	g, access, _ := h.grant("web", "alice", time.Hour)
	f.armed.Store(true)
	err := h.s.RevokeGrant(h.ctx, g.ID)
	f.armed.Store(false)
	require.NoError(t, err)
	assert.False(t, h.live(storage.KindAccess, access), "the grant is revoked")
}

// RevokeUser removes the grants it ends from their clients' indexes too,
// and RevokeClient from their users', as RevokeGrant and a reuse do: once
// the tombstone went, revocation through the other index would keep the
// entry (a missing grant may be one being created) until its score, for
// ever with a lifetime of "never", with the user ID in its key's name.
func TestRevokeThroughOneIndexLeavesTheOther(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		a, _, _ := h.grant("web", "erin", time.Hour)
		b, _, _ := h.grant("app", "erin", time.Hour)
		c, _, _ := h.grant("web", "frank", time.Hour)
		cc, _, _ := h.grant("web", "", time.Hour) // client_credentials: no user index

		n, err := h.s.RevokeUser(h.ctx, "erin")
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		n, err = h.s.RevokeClient(h.ctx, "web")
		require.NoError(t, err)
		assert.Equal(t, 2, n, "frank's grant and the client's own")

		gone := func(key, id string) {
			t.Helper()
			assert.ErrorIs(t, h.rdb.ZScore(h.ctx, key, id).Err(), goredis.Nil, "%s still lists the revoked grant %s", key, id)
		}
		gone(h.s.clientGrantsKey("app"), b.ID)
		gone(h.s.userGrantsKey("frank"), c.ID)
		for _, id := range []string{a.ID, b.ID, c.ID, cc.ID} {
			gone(h.s.clientGrantsKey("web"), id)
		}
		keys, err := keysWithPrefix(h.ctx, h.rdb, h.prefix)
		require.NoError(t, err)
		for _, k := range keys {
			assert.NotContains(t, k, "user:", "no user index is left")
			assert.NotContains(t, k, "cli:", "no client index is left")
		}
	})
}

// A grant key without a TTL (one written by hand, or restored from a
// dump without its TTLs) gets one when it is revoked: its tombstone goes
// after the skew grace instead of staying for ever.
func TestRevokedGrantWithoutTTLGetsOne(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		g, _, _ := h.grant("web", "alice", time.Hour)
		base := h.s.grantBase(g.ID)
		for _, k := range []string{grantKey(base), tokenSetKey(base)} {
			require.NoError(t, h.rdb.Persist(h.ctx, k).Err())
		}
		require.NoError(t, h.s.RevokeGrant(h.ctx, g.ID))
		// (The token set went with its tokens: none was consumed.)
		d, err := h.rdb.PTTL(h.ctx, grantKey(base)).Result()
		require.NoError(t, err)
		assert.Greater(t, d, time.Duration(0))
		assert.LessOrEqual(t, d, indexSkewGrace)
	})
}

// A revoked grant's tombstone never outlives the grant: revoking a grant
// that has less than tombstoneGraceMS left keeps its keys' TTLs, instead
// of keeping its user ID and binding in Redis past the grant's expiry.
func TestRevokedGrantTombstoneNeverOutlivesItsGrant(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		gid, err := token.NewGrantID()
		require.NoError(t, err)
		now := h.clk.Now()
		life := time.Minute // shorter than the grace
		refresh, rt := h.newToken(storage.KindRefresh, gid, life)
		require.NoError(t, h.s.CreateGrant(h.ctx, &storage.Grant{ID: gid, ClientID: "web", UserID: "alice", CreatedAt: now, ExpiresAt: now.Add(life)}, rt))
		// A consumed token, which the tombstone keeps.
		_, next := h.newToken(storage.KindRefresh, gid, life)
		_, err = h.s.ExchangeToken(h.ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: refresh, ClientID: "web", Issue: []storage.Token{next}})
		require.NoError(t, err)
		require.NoError(t, h.s.RevokeGrant(h.ctx, gid))
		base := h.s.grantBase(gid)
		for _, k := range []string{grantKey(base), tokenSetKey(base)} {
			d, err := h.rdb.PTTL(h.ctx, k).Result()
			require.NoError(t, err)
			assert.Greater(t, d, time.Duration(0), "PTTL of %s", k)
			assert.LessOrEqual(t, d, life, "PTTL of %s: the tombstone outlives its grant", k)
		}
	})
}
