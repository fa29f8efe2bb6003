package redis

import (
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
	single, ok := c.(*goredis.Client)
	if !ok {
		t.Skip("MONITOR needs a single-node client")
	}
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

	// Count the commands Redis runs on this grant's token keys (the
	// commands of scripts included) while consumed tokens of the revoked
	// grant are presented again. MONITOR sees every client's commands:
	// only this grant's keys are counted.
	opt := *single.Options()
	opt.Protocol = 2 // go-redis reads MONITOR's replies in RESP2 only
	opt.ReadTimeout = 100 * time.Millisecond
	monc := goredis.NewClient(&opt)
	defer monc.Close()
	lines := make(chan string, 1<<16)
	mon := monc.Monitor(h.ctx, lines)
	mon.Start()
	require.Equal(t, "OK", <-lines, "MONITOR is on before the first request")
	const k = 10
	for i := range k {
		x, _ := h.exchange("web", consumed[1+i])
		_, err := s.ExchangeToken(h.ctx, x)
		require.ErrorIs(t, err, storage.ErrTokenReused)
	}
	// A marker after them: once it shows, every line before it has come.
	marker := strings.ToLower(prefix + "monitor-marker")
	require.NoError(t, c.Exists(h.ctx, marker).Err())
	tokenKeys := strings.ToLower(s.grantBase(refresh.GrantID) + ":t:")
	reads := 0
	for done := false; !done; {
		select {
		case l := <-lines:
			l = strings.ToLower(l)
			done = strings.Contains(l, marker)
			if strings.Contains(l, tokenKeys) {
				reads++
			}
		case <-time.After(5 * time.Second):
			t.Fatal("MONITOR did not show the marker")
		}
	}
	mon.Stop()
	assert.Less(t, reads, 3*k, "%d presentations of consumed tokens of a revoked grant of %d rotations ran %d commands on its tokens", k, n, reads)
}
