package memory

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// checkTokenIndex checks that a grant with many tokens has an index that
// finds each of them, and a small one has none.
func checkTokenIndex(t *testing.T, g *grant) {
	t.Helper()
	if g.index == nil {
		require.LessOrEqual(t, g.tokens(), smallGrant, "grant %s: many tokens, no index", g.id)
		return
	}
	require.Len(t, g.index.at, g.tokens(), "grant %s: one index entry per token", g.id)
	for i := range g.live {
		require.Equal(t, i, g.findLive(g.live[i].hash), "grant %s: live token %d", g.id, i)
	}
	for i := range g.used {
		require.Equal(t, i, g.findUsed(g.used[i].hash), "grant %s: used token %d", g.id, i)
	}
}

// chainHash is a distinct hash for the tests' n-th token, made without
// randomness so that benchmarks time the store alone.
func chainHash(n uint64) storage.Hash {
	var h storage.Hash
	binary.LittleEndian.PutUint64(h[:], n)
	h[31] = 0xc4
	return h
}

// rotateChain exchanges refresh token presented for a new access and
// refresh token that live ttl, numbered n and n+1.
func rotateChain(tb testing.TB, s *Store, now time.Time, grantID string, presented storage.Hash, n uint64, ttl time.Duration) (storage.Hash, error) {
	next := chainHash(n + 1)
	_, err := s.ExchangeToken(tb.Context(), storage.Exchange{
		Kind: storage.KindRefresh, Presented: storage.TokenRef{GrantID: grantID, Hash: presented}, ClientID: "c",
		Issue: []storage.Token{
			{Hash: chainHash(n), Kind: storage.KindAccess, GrantID: grantID, IssuedAt: now, ExpiresAt: now.Add(ttl)},
			{Hash: next, Kind: storage.KindRefresh, GrantID: grantID, IssuedAt: now, ExpiresAt: now.Add(ttl)},
		},
	})
	return next, err
}

// newChain stores a grant with a refresh token (hash number 1) that lives
// ttl and whose own expiry is far off.
func newChain(tb testing.TB, s *Store, now time.Time, id string, ttl time.Duration) storage.Hash {
	require.NoError(tb, s.CreateGrant(tb.Context(),
		&storage.Grant{ID: id, ClientID: "c", UserID: "u", CreatedAt: now, ExpiresAt: now.Add(365 * 24 * time.Hour)},
		storage.Token{Hash: chainHash(1), Kind: storage.KindRefresh, GrantID: id, IssuedAt: now, ExpiresAt: now.Add(ttl)}))
	return chainHash(1)
}

func TestLongRefreshChain(t *testing.T) {
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	rt := newChain(t, s, clk.Now(), "g", time.Hour)
	first := rt
	n := uint64(2)
	for range 500 {
		var err error
		rt, err = rotateChain(t, s, clk.Now(), "g", rt, n, time.Hour)
		require.NoError(t, err)
		n += 2
	}
	g := s.shardOf("g").grants["g"]
	require.NotNil(t, g.index, "a long chain is indexed")
	checkInvariants(t, s)

	_, err := s.LookupToken(t.Context(), storage.KindAccess, storage.TokenRef{GrantID: "g", Hash: chainHash(2)})
	assert.NoError(t, err, "the first access token is still live")
	_, err = s.LookupToken(t.Context(), storage.KindRefresh, storage.TokenRef{GrantID: "g", Hash: first})
	assert.ErrorIs(t, err, storage.ErrNotFound, "a consumed token is not live")

	// Rotated every 10 seconds, the chain holds about 360 unexpired
	// consumed hashes and as many access tokens; the expired ones go once
	// the grant has doubled since it was last pruned, so that, once the
	// 1001 tokens of the burst above are gone, it holds at most twice
	// what is unexpired.
	for i := range 5000 {
		clk.Advance(10 * time.Second)
		var err error
		rt, err = rotateChain(t, s, clk.Now(), "g", rt, n, time.Hour)
		require.NoError(t, err)
		n += 2
		if i%100 == 0 {
			checkTokenIndex(t, g)
		}
		unexpired := 0
		for i := range g.used {
			if g.used[i].expires > toNano(clk.Now()) {
				unexpired++
			}
		}
		for i := range g.live {
			if g.live[i].expires > toNano(clk.Now()) {
				unexpired++
			}
		}
		require.LessOrEqual(t, g.tokens(), g.index.pruneAt+1, "an exchange adds two tokens after pruning")
		if i >= 2000 {
			require.LessOrEqual(t, g.tokens(), 2*unexpired+2, "expired tokens are pruned")
		}
	}
	checkInvariants(t, s)

	// Presenting a consumed, unexpired refresh token is reuse and ends
	// the grant, however long ago in the chain it was consumed.
	var old *usedToken // the earliest consumed that has not expired
	for i := range g.used {
		if u := &g.used[i]; u.expires > toNano(clk.Now()) && (old == nil || u.expires < old.expires) {
			old = u
		}
	}
	require.NotNil(t, old)
	_, err = rotateChain(t, s, clk.Now(), "g", old.hash, n, time.Hour)
	require.ErrorIs(t, err, storage.ErrTokenReused)
	_, err = s.LookupToken(t.Context(), storage.KindRefresh, storage.TokenRef{GrantID: "g", Hash: rt})
	assert.ErrorIs(t, err, storage.ErrNotFound, "reuse revoked the grant")
	checkInvariants(t, s)
}

// BenchmarkRefreshChain rotates a refresh token of a grant that holds
// `held` unexpired consumed refresh tokens and as many live access
// tokens (a grant rotated that often within the tokens' lifetime): ns/op
// should not depend on held.
func BenchmarkRefreshChain(b *testing.B) {
	for _, held := range []int{10, 1000} {
		b.Run(fmt.Sprintf("held=%d", held), func(b *testing.B) {
			clk := newTestClock()
			s := New(Config{Now: clk.Now})
			// Tokens live held ticks of the clock, one tick per rotation.
			const tick = time.Second
			ttl := time.Duration(held) * tick
			rt := newChain(b, s, clk.Now(), "g", ttl)
			n := uint64(2)
			rotate := func() {
				var err error
				if rt, err = rotateChain(b, s, clk.Now(), "g", rt, n, ttl); err != nil {
					b.Fatal(err)
				}
				n += 2
				clk.Advance(tick)
			}
			for range 2 * held {
				rotate()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rotate()
			}
		})
	}
}

// Exchanging a token that is not the last live one of an indexed grant
// moves the last one into its place: the index must follow it, or a
// lookup of the moved token finds another.
func TestExchangeOfEarlierTokenKeepsIndexRight(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New(Config{Now: func() time.Time { return now }})
	const id = "g"
	toks := []storage.Token{{Hash: chainHash(1), Kind: storage.KindRefresh, GrantID: id, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}}
	for n := uint64(2); len(toks) <= smallGrant+1; n++ {
		toks = append(toks, storage.Token{Hash: chainHash(n), Kind: storage.KindAccess, GrantID: id, IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	}
	require.NoError(t, s.CreateGrant(t.Context(),
		&storage.Grant{ID: id, ClientID: "c", UserID: "u", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, toks...))
	require.NotNil(t, s.shardOf(id).grants[id].index, "precondition: the grant is indexed")

	_, err := rotateChain(t, s, now, id, chainHash(1), 100, time.Hour)
	require.NoError(t, err)
	checkTokenIndex(t, s.shardOf(id).grants[id])
	for _, tok := range toks[1:] {
		ti, err := s.LookupToken(t.Context(), storage.KindAccess, storage.TokenRef{GrantID: id, Hash: tok.Hash})
		require.NoError(t, err)
		assert.Equal(t, tok.Hash, ti.Token.Hash, "the lookup of a token finds that token")
	}
}

// An exchange that would issue a hash the grant already holds, live or
// consumed, is refused and changes nothing, however many tokens the
// grant holds: an indexed grant is searched through its index, which a
// second token under one hash would leave pointing at one of them only.
func TestExchangeRefusesHeldHashOfIndexedGrant(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New(Config{Now: func() time.Time { return now }})
	rt := newChain(t, s, now, "g", time.Hour)
	n := uint64(2)
	for range smallGrant {
		var err error
		rt, err = rotateChain(t, s, now, "g", rt, n, time.Hour)
		require.NoError(t, err)
		n += 2
	}
	g := s.shardOf("g").grants["g"]
	require.NotNil(t, g.index, "precondition: the grant is indexed")
	tokens := g.tokens()

	for name, held := range map[string]storage.Hash{
		"a live access token":      chainHash(2),
		"a consumed refresh token": chainHash(1),
		"the presented token":      rt,
	} {
		_, err := s.ExchangeToken(ctx, storage.Exchange{
			Kind: storage.KindRefresh, Presented: storage.TokenRef{GrantID: "g", Hash: rt}, ClientID: "c",
			Issue: []storage.Token{{Hash: held, Kind: storage.KindAccess, GrantID: "g", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}},
		})
		require.ErrorIs(t, err, storage.ErrAlreadyExists, "issuing %s again", name)
		_, err = s.LookupToken(ctx, storage.KindRefresh, storage.TokenRef{GrantID: "g", Hash: rt})
		require.NoError(t, err, "the presented token was not consumed (issuing %s again)", name)
		assert.Equal(t, tokens, g.tokens(), "nothing was stored (issuing %s again)", name)
	}
	checkTokenIndex(t, g)
}
