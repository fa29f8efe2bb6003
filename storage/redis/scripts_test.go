package redis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// The keys built in one allocation are the documented layout, which stores
// in production hold: P{grantID}:g, P{grantID}:ts, P{grantID}:t:<hex>.
func TestKeyLayout(t *testing.T) {
	s := New(nil, Config{Prefix: "app:"})
	base, gkey, skey := s.grantKeys("G1")
	assert.Equal(t, "app:{G1}", base)
	assert.Equal(t, "app:{G1}:g", gkey)
	assert.Equal(t, "app:{G1}:ts", skey)
	assert.Equal(t, s.grantBase("G1"), base)
	assert.Equal(t, grantKey(base), gkey)
	assert.Equal(t, tokenSetKey(base), skey)
	h := storage.HashToken("tok")
	assert.Equal(t, "app:{G1}:t:"+h.String(), tokenKey(base, h))
}

// unpack reverses the scripts' pack: values of any bytes, empty ones
// included, and refuses a reply that is not what pack makes.
func TestUnpack(t *testing.T) {
	vals, ok := unpack(nil, "2:ok0:5:a:b\x00c3:1234:xxxx")
	require.True(t, ok)
	assert.Equal(t, []string{"ok", "", "a:b\x00c", "123", "xxxx"}, vals)
	vals, ok = unpack(nil, "")
	assert.True(t, ok)
	assert.Empty(t, vals)
	for _, bad := range []string{"2ok", "3:ok", ":ok", "2:ok1", "x:ok", "-1:", "99999999999:x"} {
		_, ok := unpack(nil, bad)
		assert.False(t, ok, "%q", bad)
	}
}

// A server that lost its script cache still creates grants, exchanges,
// extends and revokes tokens: run retries a NOSCRIPT with the script's
// body.
func TestScriptsSurviveScriptFlush(t *testing.T) {
	h := newFlushHarness(t)
	rdb := h.rdb
	_, _, refresh := h.grant("web", "alice", 24*time.Hour)
	require.NoError(t, rdb.ScriptFlush(h.ctx).Err())
	x, next := h.exchange("web", refresh)
	g, err := h.s.ExchangeToken(h.ctx, x)
	require.NoError(t, err)
	assert.Equal(t, "alice", g.UserID)
	assert.True(t, h.live(storage.KindRefresh, next[1]))
	require.NoError(t, rdb.ScriptFlush(h.ctx).Err())
	_, access, _ := h.grant("web", "bob", time.Hour)
	assert.True(t, h.live(storage.KindAccess, access))
	cached, err := rdb.ScriptExists(h.ctx, createScript.sha).Result()
	require.NoError(t, err)
	assert.Equal(t, []bool{true}, cached, "cached again")

	require.NoError(t, rdb.ScriptFlush(h.ctx).Err())
	require.NoError(t, h.s.ExtendToken(h.ctx, access, h.clk.Now().Add(2*time.Hour)))
	require.NoError(t, rdb.ScriptFlush(h.ctx).Err())
	require.NoError(t, h.s.RevokeGrant(h.ctx, access.GrantID))
	assert.False(t, h.live(storage.KindAccess, access), "revoked")
}
