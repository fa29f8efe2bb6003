package redis

import (
	"slices"
	"strconv"
	"strings"
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
	// packgrant's form: the count, a length byte each, the values.
	vals, ok = unpack(nil, "\x03\x02\x00\x03okabc")
	require.True(t, ok)
	assert.Equal(t, []string{"ok", "", "abc"}, vals)
	for _, bad := range []string{"2ok", "3:ok", ":ok", "2:ok1", "x:ok", "-1:", "99999999999:x",
		"\x03\x02\x00", "\x02\x02\x03okab", "\x02\x02\x01okab", "\x01\x05ok"} {
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

// The scripts set the TTLs and set scores the client computes: each key
// expires with what it holds (a token with its expiry, the grant and its
// token set with the latest of theirs) and each token's score is its
// expiry in milliseconds, rounded up. This holds on each path that sets
// them: creation, an exchange that moves the grant's expiry, one that
// does not, and an extension.
func TestScriptTTLsAndScores(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		base := func(gid string) string { return h.s.grantBase(gid) }
		// pttl checks that key expires d after the store's now, allowing
		// for the real time the test takes.
		pttl := func(key string, d time.Duration) {
			t.Helper()
			got, err := h.rdb.PTTL(h.ctx, key).Result()
			require.NoError(t, err)
			assert.LessOrEqual(t, got, d, "PTTL of %s", key)
			assert.Greater(t, got, d-5*time.Second, "PTTL of %s", key)
		}
		score := func(gid string, ref storage.TokenRef, exp time.Time) {
			t.Helper()
			got, err := h.rdb.ZScore(h.ctx, tokenSetKey(base(gid)), ref.Hash.String()).Result()
			require.NoError(t, err)
			want := exp.UnixMilli()
			if exp.Nanosecond()%1e6 != 0 {
				want++
			}
			assert.Equal(t, float64(want), got)
		}
		// An expiry off the millisecond, so that rounding shows.
		h.clk.Advance(123456 * time.Nanosecond)
		start := h.clk.Now()
		g, access, refresh := h.grant("web", "alice", 24*time.Hour)
		gkey, skey := grantKey(base(g.ID)), tokenSetKey(base(g.ID))
		pttl(tokenKey(base(g.ID), access.Hash), time.Hour)
		pttl(tokenKey(base(g.ID), refresh.Hash), 24*time.Hour)
		pttl(gkey, 24*time.Hour)
		pttl(skey, 24*time.Hour)
		score(g.ID, access, start.Add(time.Hour))
		score(g.ID, refresh, start.Add(24*time.Hour))

		// New tokens that end with the grant: its expiry stays.
		x, issued := h.exchange("web", refresh)
		_, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		pttl(tokenKey(base(g.ID), issued[0].Hash), time.Hour)
		pttl(gkey, 24*time.Hour)
		pttl(skey, 24*time.Hour)
		score(g.ID, issued[1], start.Add(24*time.Hour))

		// An hour on, the new refresh token outlives the grant.
		h.clk.Advance(time.Hour)
		x, next := h.exchange("web", issued[1])
		_, err = h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		pttl(tokenKey(base(g.ID), next[1].Hash), 24*time.Hour)
		pttl(gkey, 24*time.Hour)
		pttl(skey, 24*time.Hour)
		score(g.ID, next[1], start.Add(25*time.Hour))

		exp := h.clk.Now().Add(48 * time.Hour)
		require.NoError(t, h.s.ExtendToken(h.ctx, next[0], exp))
		pttl(tokenKey(base(g.ID), next[0].Hash), 48*time.Hour)
		pttl(gkey, 48*time.Hour)
		pttl(skey, 48*time.Hour)
		score(g.ID, next[0], exp)
	})
}

// An exchange returns grant fields of any length: a value of 256 bytes
// or more does not fit packgrant's one-byte lengths, and its reply falls
// back to pack's.
func TestExchangeReturnsLongValues(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		for _, user := range []string{strings.Repeat("u", 255), strings.Repeat("u", 256), strings.Repeat("ü", 1000)} {
			g, _, refresh := h.grant("web", user, time.Hour)
			x, _ := h.exchange("web", refresh)
			got, err := h.s.ExchangeToken(h.ctx, x)
			require.NoError(t, err)
			assert.Equal(t, user, got.UserID)
			assert.Equal(t, g.Scopes, got.Scopes)
		}
	})
}

// unpack reads back what either packing makes of any values, and reads
// any other reply (a script of another version, a corrupted one) as
// unpackSpec does: the same values, or malformed.
func FuzzUnpack(f *testing.F) {
	f.Add("ok", "", "a:b", []byte("2:ok"))
	f.Add("\x00", "999", "\xff", []byte("\x02\x01\x00a"))
	f.Add("a", "b", "c", []byte("02:ok0:"))
	f.Add("a", "b", "c", []byte("00000000002:ok"))
	f.Add("a", "b", "c", []byte("2:ok3:ab"))
	f.Add("a", "b", "c", []byte("\x03\x01\x01"))
	f.Add("a", "b", "c", []byte(":x"))
	f.Add("a", "b", "c", []byte("9999999999:x"))
	f.Fuzz(func(t *testing.T, a, b, c string, raw []byte) {
		want := []string{a, b, c}
		var dec strings.Builder
		for _, v := range want {
			dec.WriteString(strconv.Itoa(len(v)) + ":" + v)
		}
		got, ok := unpack(nil, dec.String())
		require.True(t, ok)
		assert.Equal(t, want, got)
		if len(a) < 256 && len(b) < 256 && len(c) < 256 {
			packed := string([]byte{3, byte(len(a)), byte(len(b)), byte(len(c))}) + a + b + c
			got, ok = unpack(nil, packed)
			require.True(t, ok)
			assert.Equal(t, want, got)
		}

		got, ok = unpack(nil, string(raw))
		want, wantOK := unpackSpec(string(raw))
		if ok != wantOK || ok && !slices.Equal(got, want) {
			t.Fatalf("unpack(%q) = %q, %v; want %q, %v", raw, got, ok, want, wantOK)
		}
	})
}

// unpackSpec is unpack's definition, the plain way: a reply that starts
// with a byte other than a digit holds that many one-byte lengths, then
// the values, and nothing after; any other is a run of values each
// written as its length in one to ten decimal digits, ":", and its bytes.
func unpackSpec(v string) ([]string, bool) {
	out := []string{}
	if v != "" && !strings.ContainsRune("0123456789", rune(v[0])) {
		n := int(v[0])
		if len(v) < 1+n {
			return nil, false
		}
		rest := v[1+n:]
		for _, l := range []byte(v[1 : 1+n]) {
			if int(l) > len(rest) {
				return nil, false
			}
			out, rest = append(out, rest[:l]), rest[l:]
		}
		return out, rest == ""
	}
	for v != "" {
		num, tail, found := strings.Cut(v, ":")
		if !found || num == "" || len(num) > 10 || strings.Trim(num, "0123456789") != "" {
			return nil, false
		}
		n, err := strconv.Atoi(num)
		if err != nil || n > len(tail) {
			return nil, false
		}
		out, v = append(out, tail[:n]), tail[n:]
	}
	return out, true
}

// An exchange drops from the grant's token set the tokens that have
// expired, so that the set of a long-lived grant rotated often holds its
// live and its consumed tokens, not every token it ever had (which
// revocation would walk).
func TestExchangePrunesTheTokenSet(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		g, access, refresh := h.grant("web", "alice", 24*time.Hour)
		x, issued := h.exchange("web", refresh)
		_, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)

		// Two hours on, both access tokens (of an hour) have expired.
		h.clk.Advance(2 * time.Hour)
		x, next := h.exchange("web", issued[1])
		_, err = h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)

		got, err := h.rdb.ZRange(h.ctx, tokenSetKey(h.s.grantBase(g.ID)), 0, -1).Result()
		require.NoError(t, err)
		want := []string{refresh.Hash.String(), issued[1].Hash.String(), next[0].Hash.String(), next[1].Hash.String()}
		assert.ElementsMatch(t, want, got, "consumed and live tokens only")
		assert.NotContains(t, got, access.Hash.String(), "the first access token expired")
	})
}
