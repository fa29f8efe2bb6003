package memory

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/testclock"
	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// newTestClock returns a clock the tests move by hand.
func newTestClock() *testclock.Clock { return testclock.New(time.Unix(1_900_000_000, 0)) }

// issue stores a grant of client for user with an access and a refresh
// token that live ttl, and returns the grant ID and the tokens' refs.
func issue(tb testing.TB, s *Store, now time.Time, clientID, userID string, ttl time.Duration) (string, storage.TokenRef, storage.TokenRef) {
	tb.Helper()
	id, access, refresh, err := tryIssue(tb.Context(), s, now, clientID, userID, ttl)
	require.NoError(tb, err)
	return id, access, refresh
}

// tryIssue is issue returning its error, for a goroutine other than the
// test's, where require must not be called.
func tryIssue(ctx context.Context, s *Store, now time.Time, clientID, userID string, ttl time.Duration) (id string, access, refresh storage.TokenRef, err error) {
	if id, err = token.NewGrantID(); err != nil {
		return "", access, refresh, err
	}
	if _, access, err = token.New(storage.KindAccess, id); err != nil {
		return "", access, refresh, err
	}
	if _, refresh, err = token.New(storage.KindRefresh, id); err != nil {
		return "", access, refresh, err
	}
	g := &storage.Grant{ID: id, ClientID: clientID, UserID: userID, Scopes: []string{"read", "write"}, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err = s.CreateGrant(ctx, g,
		storage.Token{Hash: access.Hash, Kind: storage.KindAccess, GrantID: id, IssuedAt: now, ExpiresAt: now.Add(ttl)},
		storage.Token{Hash: refresh.Hash, Kind: storage.KindRefresh, GrantID: id, IssuedAt: now, ExpiresAt: now.Add(ttl)},
	)
	return id, access, refresh, err
}

// counts returns how many grants, heap entries, user lists and client
// lists the store holds.
func (s *Store) counts() (grants, heap, users, clients int) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		grants += len(sh.grants)
		heap += len(sh.expiries)
		users += len(sh.byUser)
		clients += len(sh.byClient)
		sh.mu.RUnlock()
	}
	return
}

// checkInvariants fails t unless every shard's map, heap and lists agree.
func checkInvariants(t *testing.T, s *Store) {
	t.Helper()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		// Every stored grant has its live entry, at or before its expiry;
		// other entries are stale (a gone grant's, or replaced ones).
		live := map[*grant]bool{}
		for j, e := range sh.expiries {
			if j > 0 {
				require.LessOrEqual(t, sh.expiries[(j-1)/2].at, e.at, "shard %d: heap order", i)
			}
			if !e.g.gone && e.at == e.g.queued {
				require.False(t, live[e.g], "shard %d: one live entry per grant", i)
				live[e.g] = true
				require.Same(t, e.g, sh.grants[e.g.id], "shard %d: a live entry's grant is stored", i)
			}
		}
		for id, g := range sh.grants {
			require.True(t, live[g], "shard %d: grant %s has no live heap entry", i, id)
			require.LessOrEqual(t, g.queued, g.expires, "shard %d: queued at or before its expiry", i)
		}
		listed := map[*grant]int{}
		for user, head := range sh.byUser {
			require.Nil(t, head.userPrev, "shard %d: list head", i)
			for g := head; g != nil; g = g.userNext {
				require.Equal(t, user, g.userID)
				require.False(t, g.revoked, "a revoked grant is unlisted")
				require.Same(t, g, sh.grants[g.id])
				if g.userNext != nil {
					require.Same(t, g, g.userNext.userPrev)
				}
				listed[g]++
			}
		}
		for client, head := range sh.byClient {
			require.Nil(t, head.clientPrev, "shard %d: list head", i)
			for g := head; g != nil; g = g.clientNext {
				require.Equal(t, client, g.clientID)
				require.False(t, g.revoked, "a revoked grant is unlisted")
				require.Same(t, g, sh.grants[g.id])
				if g.clientNext != nil {
					require.Same(t, g, g.clientNext.clientPrev)
				}
				listed[g]++
			}
		}
		for _, g := range sh.grants {
			want := 0
			if !g.revoked {
				want = 1 // its client's list
				if g.userID != "" {
					want++ // its user's list
				}
			}
			require.Equal(t, want, listed[g], "shard %d: grant listed once per index", i)
			checkTokenIndex(t, g)
		}
		sh.mu.RUnlock()
	}
}

func TestExpiredGrantsAreReclaimedByLaterWrites(t *testing.T) {
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	const old = 2000
	perShard := make([]int, numShards)
	for range old {
		id, _, _ := issue(t, s, clk.Now(), "old-client", "old-user", time.Minute)
		perShard[maphashIndex(s, id)]++
	}
	grants, heap, users, clients := s.counts()
	require.Equal(t, old, grants)
	require.Equal(t, old, heap)
	require.Equal(t, numShards, users, "the old user is listed in every shard")
	require.Equal(t, numShards, clients)
	checkInvariants(t, s)

	clk.Advance(time.Minute + time.Second)
	// Reads do not reclaim; writes do, a few per write, in their shard.
	// Write until every shard has had enough writes for its old grants.
	fresh := 0
	for {
		done := true
		for i := range perShard {
			if perShard[i] > 0 {
				done = false
			}
		}
		if done {
			break
		}
		id, _, _ := issue(t, s, clk.Now(), "new-client", "new-user", time.Hour)
		fresh++
		perShard[maphashIndex(s, id)] -= reclaimPerWrite
		require.Less(t, fresh, 100*old, "writes never reclaimed everything")
	}
	grants, heap, _, _ = s.counts()
	assert.Equal(t, fresh, grants, "only the fresh grants are left")
	assert.Equal(t, fresh, heap)
	for i := range s.shards {
		_, ok := s.shards[i].byUser["old-user"]
		assert.False(t, ok, "shard %d still lists the old user", i)
		_, ok = s.shards[i].byClient["old-client"]
		assert.False(t, ok, "shard %d still lists the old client", i)
	}
	checkInvariants(t, s)
	n, err := s.RevokeUser(t.Context(), "old-user")
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestConsumedTokensAreKeptUntilTheirExpiry(t *testing.T) {
	ctx := t.Context()
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	id, _, r1 := issue(t, s, clk.Now(), "c", "u", time.Hour)

	rotate := func(presented storage.TokenRef) storage.TokenRef {
		t.Helper()
		now := clk.Now()
		_, next, err := token.New(storage.KindRefresh, id)
		require.NoError(t, err)
		_, err = s.ExchangeToken(ctx, storage.Exchange{
			Kind: storage.KindRefresh, Presented: presented, ClientID: "c",
			Issue: []storage.Token{{Hash: next.Hash, Kind: storage.KindRefresh, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}},
		})
		require.NoError(t, err)
		return next
	}
	g := s.shardOf(id).grants[id]

	clk.Advance(30 * time.Minute)
	r2 := rotate(r1)
	assert.Len(t, g.used, 1, "r1 is kept for reuse detection")
	assert.Len(t, g.live, 2, "the first access token and r2")

	clk.Advance(31 * time.Minute) // r1 and the first access token expired
	rotate(r2)
	assert.Len(t, g.used, 1, "r1 was dropped at the next write to the grant; r2 is kept")
	assert.Len(t, g.live, 1, "the expired access token was dropped")
	checkInvariants(t, s)
}

func TestRevokedGrantKeepsOnlyConsumedHashes(t *testing.T) {
	ctx := t.Context()
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	plain, _, _ := issue(t, s, clk.Now(), "c", "u", time.Hour)
	require.NoError(t, s.RevokeGrant(ctx, plain))
	_, ok := s.shardOf(plain).grants[plain]
	assert.False(t, ok, "a revoked grant with no consumed token is deleted at once")

	id, _, r1 := issue(t, s, clk.Now(), "c", "u", 24*time.Hour)
	now := clk.Now()
	_, r2, err := token.New(storage.KindRefresh, id)
	require.NoError(t, err)
	_, err = s.ExchangeToken(ctx, storage.Exchange{
		Kind: storage.KindRefresh, Presented: r1, ClientID: "c",
		Issue: []storage.Token{{Hash: r2.Hash, Kind: storage.KindRefresh, IssuedAt: now, ExpiresAt: now.Add(24 * time.Hour)}},
	})
	require.NoError(t, err)
	require.NoError(t, s.RevokeGrant(ctx, id))
	g := s.shardOf(id).grants[id]
	require.NotNil(t, g, "kept for its consumed token")
	assert.Empty(t, g.live)
	assert.Nil(t, g.scopes)
	assert.Len(t, g.used, 1)
	checkInvariants(t, s)

	clk.Advance(24*time.Hour + time.Second)
	// A write to another shard leaves it; one to its shard reclaims it.
	for i := 0; ; i++ {
		require.Less(t, i, 10000, "no grant landed in the shard")
		other, _, _ := issue(t, s, clk.Now(), "c", "u", time.Hour)
		if maphashIndex(s, other) == maphashIndex(s, id) {
			break
		}
		_, ok = s.shardOf(id).grants[id]
		require.True(t, ok, "a write to another shard does not touch it")
	}
	_, ok = s.shardOf(id).grants[id]
	assert.False(t, ok, "reclaimed after the consumed token expired")
}

func TestShardGivesMapMemoryBack(t *testing.T) {
	var sh shard
	sh.init()
	for i := range 4 * shrinkFloor {
		sh.add(&grant{id: string(rune(i + 1000)), clientID: "c", expires: 10})
	}
	require.Equal(t, 4*shrinkFloor, sh.peak)
	sh.reclaim(5, 4*shrinkFloor)
	require.Len(t, sh.grants, 4*shrinkFloor, "nothing expired yet")
	sh.reclaim(10, 3*shrinkFloor+1)
	assert.Len(t, sh.grants, shrinkFloor-1)
	assert.Equal(t, shrinkFloor-1, sh.peak, "the map was rebuilt at its new size")
	assert.Len(t, sh.expiries, shrinkFloor-1)
}

// maphashIndex returns the index of the shard of grantID.
func maphashIndex(s *Store, grantID string) int {
	sh := s.shardOf(grantID)
	for i := range s.shards {
		if &s.shards[i] == sh {
			return i
		}
	}
	panic("no shard")
}

// TestExtendedGrantIsQueuedAgain: a grant whose expiry moved later keeps
// its heap entry at the old time; when that comes up the grant is queued
// again at its new expiry instead of being reclaimed, and it is reclaimed
// once that has passed.
func TestExtendedGrantIsQueuedAgain(t *testing.T) {
	ctx := t.Context()
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	id, _, refresh := issue(t, s, clk.Now(), "c", "u", time.Minute)
	require.NoError(t, s.ExtendToken(ctx, refresh, clk.Now().Add(time.Hour)))
	sh := s.shardOf(id)
	g := sh.grants[id]
	require.Less(t, g.queued, g.expires, "extending does not touch the heap")

	clk.Advance(2 * time.Minute)
	sh.mu.Lock()
	sh.reclaim(toNano(clk.Now()), reclaimPerWrite)
	sh.mu.Unlock()
	require.Same(t, g, sh.grants[id], "not reclaimed at its old expiry")
	assert.Equal(t, g.expires, g.queued, "queued again at its new expiry")
	_, err := s.LookupToken(ctx, storage.KindRefresh, refresh)
	require.NoError(t, err)
	checkInvariants(t, s)

	clk.Advance(time.Hour)
	sh.mu.Lock()
	sh.reclaim(toNano(clk.Now()), reclaimPerWrite)
	sh.mu.Unlock()
	assert.NotContains(t, sh.grants, id, "reclaimed after its new expiry")
	assert.True(t, g.gone)
	checkInvariants(t, s)
}

// TestRevokedGrantsDoNotPileUpInTheHeap: the heap entries of grants
// revoked long before they expire are dropped once they outnumber the
// grants twice, not kept until their time, whether or not the store
// holds live grants too.
func TestRevokedGrantsDoNotPileUpInTheHeap(t *testing.T) {
	for _, live := range []int{0, 10 * numShards} {
		clk := newTestClock()
		s := New(Config{Now: clk.Now})
		for range live {
			issue(t, s, clk.Now(), "c", "u", 365*24*time.Hour)
		}
		for range 10_000 {
			id, _, _ := issue(t, s, clk.Now(), "c", "u", 30*24*time.Hour)
			require.NoError(t, s.RevokeGrant(t.Context(), id))
			clk.Advance(time.Second)
		}
		grants, heap, _, _ := s.counts()
		assert.Equal(t, live, grants)
		assert.LessOrEqual(t, heap, 2*grants+numShards*(staleSlack+1), "stale heap entries are bounded (%d live grants)", live)
		assert.Less(t, heap, live+10_000/2, "most of the revoked grants' entries were dropped (%d live grants)", live)
		checkInvariants(t, s)
	}
}

// TestReclaimTouchesOnlyWhatExpired: reclaiming costs what expired, not
// what is stored. Every shard holds long-lived grants, a few expired ones
// and a few revoked ones (whose heap entries are stale but not due), and
// a nil grant that crashes any walk over the stored grants. A reclaim
// pops exactly the expired grants' heap entries: it walks no map, leaves
// the stale entries for their time (no compaction) and does not rebuild
// the map.
func TestReclaimTouchesOnlyWhatExpired(t *testing.T) {
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	expired := make([]int, numShards)
	for range 3 * numShards {
		id, _, _ := issue(t, s, clk.Now(), "c", "u", time.Minute)
		expired[maphashIndex(s, id)]++
	}
	for i := range 50 * numShards {
		id, _, _ := issue(t, s, clk.Now(), "c", "u", 24*time.Hour)
		if i%10 == 0 {
			require.NoError(t, s.RevokeGrant(t.Context(), id))
		}
	}
	clk.Advance(2 * time.Minute)
	const poison = "a walk over the stored grants would visit this"
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.grants[poison] = nil
		grants, heap := len(sh.grants), len(sh.expiries)
		m := reflect.ValueOf(sh.grants).UnsafePointer()
		require.Less(t, heap, 2*grants+staleSlack, "shard %d: no compaction due", i)
		sh.reclaim(toNano(clk.Now()), 1000)
		assert.Equal(t, grants-expired[i], len(sh.grants), "shard %d: the expired grants were reclaimed", i)
		assert.Equal(t, heap-expired[i], len(sh.expiries), "shard %d: only the expired grants' heap entries were popped", i)
		assert.Equal(t, m, reflect.ValueOf(sh.grants).UnsafePointer(), "shard %d: the map was not rebuilt", i)
		delete(sh.grants, poison)
		sh.mu.Unlock()
	}
	grants, _, _, _ := s.counts()
	assert.Equal(t, 50*numShards-5*numShards, grants, "the live grants are left")
	checkInvariants(t, s)
}

// A revoked grant is kept only while a consumed token of it can still be
// reused: it is reclaimed when the last one expires, not at the grant's
// own, later expiry.
func TestRevokedGrantIsReclaimedWithItsLastConsumedToken(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New(Config{Now: func() time.Time { return now }})
	r1 := newChain(t, s, now, "g", 10*time.Minute) // the grant lives a year
	_, err := rotateChain(t, s, now, "g", r1, 2, 10*time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.RevokeGrant(t.Context(), "g"))
	now = now.Add(11 * time.Minute)
	require.NoError(t, s.RevokeGrant(t.Context(), "g")) // a write to its shard reclaims
	sh := s.shardOf("g")
	assert.Nil(t, sh.grants["g"], "revoked grant whose consumed tokens expired")
}

// TestReclaimLooksPastStaleEntries: the heap entries of removed grants
// (revoked before they expired) do not use up a write's quota: behind
// three such entries per grant, a write still reclaims reclaimPerWrite
// expired grants.
func TestReclaimLooksPastStaleEntries(t *testing.T) {
	var sh shard
	sh.init()
	var revoked []*grant
	for i := range 3 * reclaimPerWrite {
		g := &grant{id: fmt.Sprintf("revoked-%d", i), clientID: "c", expires: 10}
		sh.add(g)
		revoked = append(revoked, g)
	}
	for i := range reclaimPerWrite {
		sh.add(&grant{id: fmt.Sprintf("expired-%d", i), clientID: "c", expires: 20})
	}
	for i := range 100 {
		sh.add(&grant{id: fmt.Sprintf("live-%d", i), clientID: "c", expires: 1000})
	}
	for _, g := range revoked {
		require.True(t, sh.revoke(g, 5))
	}
	require.Len(t, sh.grants, reclaimPerWrite+100, "revoked grants without consumed tokens are removed at once")
	require.Len(t, sh.expiries, 4*reclaimPerWrite+100, "their heap entries wait for their time")

	sh.reclaim(30, reclaimPerWrite)
	assert.Len(t, sh.grants, 100, "the expired grants were reclaimed past the stale entries")
	for i := range reclaimPerWrite {
		assert.NotContains(t, sh.grants, fmt.Sprintf("expired-%d", i))
	}
	assert.Len(t, sh.expiries, 100, "the stale entries were dropped")
}

// TestCompactKeepsOneEntryPerGrant: compacting a shard's heap drops every
// stale entry, those of removed grants and those that an earlier one
// replaced, keeps the one of each stored grant, in heap order, and leaves
// no pointer to a dropped grant behind the heap's length.
func TestCompactKeepsOneEntryPerGrant(t *testing.T) {
	var sh shard
	sh.init()
	rng := rand.New(rand.NewPCG(1, 2))
	var all []*grant
	for i := range 1000 {
		g := &grant{id: fmt.Sprintf("g-%d", i), clientID: "c", expires: 1000 + rng.Int64N(1000)}
		sh.add(g)
		all = append(all, g)
	}
	for i, g := range all {
		switch i % 3 {
		case 0: // revoked: removed, its entry stale
			sh.revoke(g, 0)
		case 1: // revoked but kept for a consumed token: queued again, earlier
			g.used = []usedToken{{hash: chainHash(uint64(i)), expires: g.expires - 1 - rng.Int64N(500), kind: storage.KindRefresh}}
			sh.revoke(g, 0)
		}
	}
	require.Len(t, sh.grants, 666)
	require.Len(t, sh.expiries, 1000+333)

	sh.expiries.compact()
	require.Len(t, sh.expiries, len(sh.grants), "one entry per stored grant")
	seen := map[*grant]bool{}
	for j, e := range sh.expiries {
		if j > 0 {
			require.LessOrEqual(t, sh.expiries[(j-1)/2].at, e.at, "heap order at %d", j)
		}
		require.Same(t, e.g, sh.grants[e.g.id], "the entry of a stored grant")
		require.Equal(t, e.g.queued, e.at, "the grant's live entry")
		require.False(t, seen[e.g], "one entry per grant")
		seen[e.g] = true
	}
	for _, e := range sh.expiries[len(sh.expiries):cap(sh.expiries)] {
		require.Nil(t, e.g, "no dropped grant is kept behind the heap's length")
	}
	prev := int64(math.MinInt64)
	for len(sh.expiries) > 0 {
		e := sh.expiries.pop()
		require.LessOrEqual(t, prev, e.at, "entries come up earliest first")
		prev = e.at
	}
}

// TestReclaimingOutpacesIssuing: a write reclaims more expired grants
// than it stores, so that a backlog (a burst of grants that expired
// together) drains while grants keep being issued at the same pace, and
// the store holds the live grants only, not live grants plus the burst.
func TestReclaimingOutpacesIssuing(t *testing.T) {
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	const round = 32 * numShards
	for range 3 * round { // the burst
		issue(t, s, clk.Now(), "c", "u", time.Minute)
	}
	for r := range 3 {
		clk.Advance(2 * time.Minute) // what was issued has expired
		for range round {
			issue(t, s, clk.Now(), "c", "u", time.Minute)
		}
		grants, heap, _, _ := s.counts()
		t.Logf("round %d: %d grants, %d heap entries", r, grants, heap)
		if r > 0 {
			assert.Equal(t, round, grants, "round %d: only the live grants are left", r)
		}
	}
	checkInvariants(t, s)
}

// Every write reclaims expired grants, not only CreateGrant: a store
// whose traffic is refreshes, extensions and revocations, with no new
// grants, still gives back the grants that expired. A write to one grant
// reclaims in that grant's shard; RevokeUser and RevokeClient, which
// lock every shard, reclaim in each.
func TestEveryWriteReclaims(t *testing.T) {
	for name, write := range map[string]func(t *testing.T, s *Store, now time.Time, id string, access, refresh storage.TokenRef){
		"ExchangeToken": func(t *testing.T, s *Store, now time.Time, id string, _, refresh storage.TokenRef) {
			_, next, err := token.New(storage.KindRefresh, id)
			require.NoError(t, err)
			_, err = s.ExchangeToken(t.Context(), storage.Exchange{
				Kind: storage.KindRefresh, Presented: refresh, ClientID: "c",
				Issue: []storage.Token{{Hash: next.Hash, Kind: storage.KindRefresh, GrantID: id, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}},
			})
			require.NoError(t, err)
		},
		"ExtendToken": func(t *testing.T, s *Store, now time.Time, _ string, access, _ storage.TokenRef) {
			require.NoError(t, s.ExtendToken(t.Context(), access, now.Add(time.Hour)))
		},
		"RevokeGrant": func(t *testing.T, s *Store, _ time.Time, id string, _, _ storage.TokenRef) {
			require.NoError(t, s.RevokeGrant(t.Context(), id))
		},
		"RevokeUser of another user": func(t *testing.T, s *Store, _ time.Time, _ string, _, _ storage.TokenRef) {
			_, err := s.RevokeUser(t.Context(), "someone-else")
			require.NoError(t, err)
		},
		"RevokeClient of another client": func(t *testing.T, s *Store, _ time.Time, _ string, _, _ storage.TokenRef) {
			_, err := s.RevokeClient(t.Context(), "another-client")
			require.NoError(t, err)
		},
	} {
		t.Run(name, func(t *testing.T) {
			clk := newTestClock()
			s := New(Config{Now: clk.Now})
			id, access, refresh := issue(t, s, clk.Now(), "c", "u", time.Hour)
			// One grant that expires, in the shard of id.
			var old string
			for old == "" || s.shardOf(old) != s.shardOf(id) {
				var err error
				old, err = token.NewGrantID()
				require.NoError(t, err)
			}
			now := clk.Now()
			require.NoError(t, s.CreateGrant(t.Context(), &storage.Grant{
				ID: old, ClientID: "old-client", UserID: "old-user", CreatedAt: now, ExpiresAt: now.Add(time.Minute),
			}))
			clk.Advance(2 * time.Minute)
			write(t, s, clk.Now(), id, access, refresh)
			_, ok := s.shardOf(old).grants[old]
			assert.False(t, ok, "the expired grant is still stored")
			checkInvariants(t, s)
		})
	}
}
