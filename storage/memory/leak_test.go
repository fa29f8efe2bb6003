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
