package redis

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// A grant ID that starts with "}" gives its keys no hash tag ("P{}x}:g"
// hashes whole), so on a cluster they span slots and every script on them
// fails with CROSSSLOT. Like the empty ID, it is refused by CreateGrant on
// every topology, finds nothing elsewhere, and an index entry of one (left
// by an earlier version) is dropped by RevokeUser instead of failing it.
func TestGrantIDWithoutHashTag(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		for _, gid := range []string{"}", "}x"} {
			now := h.clk.Now()
			ref := storage.TokenRef{GrantID: gid, Hash: storage.HashToken("refresh " + gid)}
			g := &storage.Grant{ID: gid, ClientID: "web", UserID: "alice", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			tok := storage.Token{Hash: ref.Hash, Kind: storage.KindRefresh, GrantID: gid, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
			err := h.s.CreateGrant(h.ctx, g, tok)
			require.Error(t, err, "grant ID %q", gid)
			assert.NotContains(t, err.Error(), "CROSSSLOT")
			keys, err := keysWithPrefix(h.ctx, h.rdb, h.prefix)
			require.NoError(t, err)
			assert.Empty(t, keys, "nothing written for grant ID %q", gid)

			_, err = h.s.LookupToken(h.ctx, storage.KindRefresh, ref)
			assert.ErrorIs(t, err, storage.ErrNotFound)
			_, err = h.s.ExchangeToken(h.ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: ref, ClientID: "web"})
			assert.ErrorIs(t, err, storage.ErrNotFound)
			assert.ErrorIs(t, h.s.ExtendToken(h.ctx, ref, now.Add(2*time.Hour)), storage.ErrNotFound)
			assert.NoError(t, h.s.RevokeGrant(h.ctx, gid))
		}

		// An index entry of such an ID does not stop RevokeUser from
		// revoking the user's grants.
		_, access, _ := h.grant("web", "alice", time.Hour)
		score := float64(scoreMillis(h.clk.Now().Add(2 * time.Hour)))
		require.NoError(t, h.rdb.ZAdd(h.ctx, h.s.userGrantsKey("alice"), goredis.Z{Score: score, Member: "}x"}).Err())
		n, err := h.s.RevokeUser(h.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		assert.False(t, h.live(storage.KindAccess, access))
		ids, err := h.rdb.ZRange(h.ctx, h.s.userGrantsKey("alice"), 0, -1).Result()
		require.NoError(t, err)
		assert.Empty(t, ids, "the entries are gone")
	})
}
