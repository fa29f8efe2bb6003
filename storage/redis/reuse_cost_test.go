package redis

import (
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// A grant keeps every refresh token it consumed (until its expiry, 30
// days by default) in its token set, for reuse detection, and revoking
// it walks that set, reading each token in the one Lua script that
// blocks Redis. Revoking once is the grant's owner paying for their own
// rotations; but presenting a consumed token of a grant already revoked
// walked the whole set again, every time: one request made Redis read
// every token the grant ever rotated through, as often as anyone liked.
// After a chain of n rotations, presenting a consumed token again must
// cost Redis nothing per rotation.
func TestReuseOfRevokedGrantDoesNotWalkItsTokens(t *testing.T) {
	c := singleClient(t)
	single := c.(*goredis.Client) // INFO commandstats of the one server
	clk := newFakeClock()
	s, prefix := newStore(t, c, clk.Now)
	h := &harness{t: t, s: s, rdb: c, clk: clk, prefix: prefix, ctx: t.Context()}

	const n = 200
	_, _, refresh := h.grant("web", "alice", 24*time.Hour)
	consumed := []storage.TokenRef{refresh}
	for range n {
		x, next := h.exchange("web", refresh)
		_, err := s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		refresh = next[1]
		consumed = append(consumed, refresh)
	}
	consumed = consumed[:n]
	x, _ := h.exchange("web", consumed[0])
	_, err := s.ExchangeToken(h.ctx, x)
	require.ErrorIs(t, err, storage.ErrTokenReused, "reuse revokes the grant")

	// Count the HGETs Redis runs (those of scripts included; revoke reads
	// each token's consumed field with one) while consumed tokens of the
	// revoked grant are presented again. The count is the server's, so
	// other clients' commands count too: walking the set would add n per
	// request, far above what anything else sends meanwhile. (MONITOR
	// would single out this grant's keys, but go-redis's MonitorCmd races
	// with its own reader under the race detector.)
	const k = 10
	before := hgetCalls(t, single)
	for i := range k {
		x, _ := h.exchange("web", consumed[1+i])
		_, err := s.ExchangeToken(h.ctx, x)
		require.ErrorIs(t, err, storage.ErrTokenReused)
	}
	reads := hgetCalls(t, single) - before
	assert.Less(t, reads, int64(n*k/4), "%d presentations of consumed tokens of a revoked grant of %d rotations ran %d HGETs", k, n, reads)
}

// hgetCalls returns how many HGET commands the server has run.
func hgetCalls(t *testing.T, c *goredis.Client) int64 {
	t.Helper()
	info, err := c.Info(t.Context(), "commandstats").Result()
	require.NoError(t, err)
	for line := range strings.SplitSeq(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_hget:calls=")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(rest[:strings.IndexByte(rest+",", ',')], 10, 64)
		require.NoError(t, err)
		return n
	}
	return 0
}
