package redis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

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
		gid, err := token.NewGrantID()
		require.NoError(t, err)
		now := h.clk.Now()
		never := time.Unix(0, 1<<63-1).UTC()
		session, st := h.newToken(storage.KindSession, gid, never.Sub(now))
		st.ExpiresAt = never
		require.NoError(t, h.s.CreateGrant(h.ctx, &storage.Grant{ID: gid, UserID: "alice", CreatedAt: now, ExpiresAt: never}, st))
		require.NoError(t, h.s.RevokeGrant(h.ctx, gid))
		assert.False(t, h.live(storage.KindSession, session))
		base := h.s.grantBase(gid)
		assert.LessOrEqual(t, pttl(grantKey(base)), indexSkewGrace, "the tombstone of a grant without consumed tokens")

		// A grant rotated once (the consumed refresh token lives an hour,
		// the new one a day), revoked: its tombstone lasts the hour.
		g, _, refresh := h.grant("web", "bob", time.Hour)
		x, _ := h.exchange("web", refresh)
		_, err = h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		require.NoError(t, h.s.RevokeGrant(h.ctx, g.ID))
		base = h.s.grantBase(g.ID)
		for _, k := range []string{grantKey(base), tokenSetKey(base)} {
			d := pttl(k)
			assert.Greater(t, d, time.Hour-5*time.Second, "PTTL of %s: the consumed token is still reuse", k)
			assert.LessOrEqual(t, d, time.Hour+indexSkewGrace, "PTTL of %s", k)
		}
		x2, _ := h.exchange("web", refresh)
		_, err = h.s.ExchangeToken(h.ctx, x2)
		assert.ErrorIs(t, err, storage.ErrTokenReused, "the consumed token of the revoked grant is reuse")

		// Reuse revokes the same way.
		g, _, refresh = h.grant("web", "carol", time.Hour)
		x, _ = h.exchange("web", refresh)
		_, err = h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		x2, _ = h.exchange("web", refresh)
		_, err = h.s.ExchangeToken(h.ctx, x2)
		require.ErrorIs(t, err, storage.ErrTokenReused)
		assert.LessOrEqual(t, pttl(grantKey(h.s.grantBase(g.ID))), time.Hour+indexSkewGrace, "the tombstone of a grant revoked by reuse")
	})
}
