package memory

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
)

func heapNow() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestUserAndClientListsGiveMemoryBack: once every grant of many distinct
// users has expired and been reclaimed, the store should hold about what
// an empty one does.
func TestUserAndClientListsGiveMemoryBack(t *testing.T) {
	const n = 200_000
	clk := newTestClock()
	before := heapNow()
	s := New(Config{Now: clk.Now})
	for i := range n {
		id := fmt.Sprintf("grant-%07d", i)
		now := clk.Now()
		if err := s.CreateGrant(t.Context(), &storage.Grant{ID: id, ClientID: fmt.Sprintf("client-%07d", i), UserID: fmt.Sprintf("user-%07d", i), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	full := heapNow() - before
	clk.Advance(2 * time.Hour)
	// Writes reclaim what expired: 8 per write per shard.
	for i := range 4 * n / reclaimPerWrite {
		_ = s.RevokeGrant(t.Context(), fmt.Sprintf("none-%d", i))
	}
	grants, heap, users, clients := s.counts()
	t.Logf("left: grants %d heap %d users %d clients %d", grants, heap, users, clients)
	left := heapNow() - before
	t.Logf("heap with %d grants: %d bytes; after all were reclaimed: %d bytes", n, full, left)
	if left > full/10 {
		t.Errorf("after reclaiming every grant the store still holds %d bytes (%.0f%% of its peak)", left, 100*float64(left)/float64(full))
	}
	runtime.KeepAlive(s)
}

// TestTokenIndexGivesMemoryBack: a grant whose chain was rotated in a
// burst and then settles to a few dozen unexpired tokens should not keep
// an index sized for the burst.
func TestTokenIndexGivesMemoryBack(t *testing.T) {
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	rt := newChain(t, s, clk.Now(), "g", time.Hour)
	n := uint64(2)
	rotate := func() {
		t.Helper()
		var err error
		if rt, err = rotateChain(t, s, clk.Now(), "g", rt, n, time.Hour); err != nil {
			t.Fatal(err)
		}
		n += 2
	}
	base := heapNow()
	for range 5_000 { // a burst: 10k unexpired tokens
		rotate()
	}
	burst := heapNow() - base
	// Then one rotation a minute: about 120 unexpired tokens, pruned
	// once the grant has doubled since the last pruning (within a week).
	for range 7 * 24 * 60 {
		clk.Advance(time.Minute)
		rotate()
	}
	g := s.shardOf("g").grants["g"]
	left := heapNow() - base
	t.Logf("tokens %d; heap after the burst %d, once settled %d", g.tokens(), burst, left)
	if c := cap(g.live) + cap(g.used); c > 4*g.tokens()+2*smallGrant {
		t.Errorf("a grant of %d tokens keeps arrays for %d", g.tokens(), c)
	}
	if left > burst/10 {
		t.Errorf("a grant of %d tokens holds %d bytes (%.0f%% of its burst's)", g.tokens(), left, 100*float64(left)/float64(burst))
	}
}

// TestTokenIndexGivesMemoryBackAsAChainSlows: a grant whose chain was
// rotated in a burst and then ever more slowly, so that each pruning
// keeps about half of what the last one kept, should not keep an index
// sized for the burst once it holds a few dozen tokens.
func TestTokenIndexGivesMemoryBackAsAChainSlows(t *testing.T) {
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	const ttl = time.Hour
	rt := newChain(t, s, clk.Now(), "g", ttl)
	n := uint64(2)
	rotate := func() {
		t.Helper()
		var err error
		if rt, err = rotateChain(t, s, clk.Now(), "g", rt, n, ttl); err != nil {
			t.Fatal(err)
		}
		n += 2
	}
	g := s.shardOf("g").grants["g"]
	base := heapNow()
	for range 8_000 { // a burst: 16k unexpired tokens
		rotate()
	}
	burst := heapNow() - base
	// Then ever more slowly: the interval doubles at every pruning, so
	// that each keeps over half of what the last one kept.
	every := ttl / 4000
	for g.index != nil && g.tokens() > 4*smallGrant {
		pruneAt := g.index.pruneAt
		for g.index != nil && g.index.pruneAt == pruneAt {
			clk.Advance(every)
			rotate()
		}
		t.Logf("pruned to %d tokens, next at %d", g.tokens(), g.index.pruneAt)
		every = every * 9 / 5
	}
	left := heapNow() - base
	t.Logf("tokens %d; heap after the burst %d, once settled %d", g.tokens(), burst, left)
	if left > burst/10 {
		t.Errorf("a grant of %d tokens holds %d bytes (%.0f%% of its burst's)", g.tokens(), left, 100*float64(left)/float64(burst))
	}
}
