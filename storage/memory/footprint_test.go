package memory

import (
	"runtime"
	"testing"
	"time"
)

// TestLiveTokensFitIn300Bytes guards the target BenchmarkMemoryPerToken
// measures at 1M tokens (docs/benchmarks.md: at most 300 bytes of heap per
// live token) on a tenth of them, cheap enough for every test run: the
// same grants of an access and a refresh token, to 1000 users. At this
// size the figure is a few bytes above the 1M one (the maps are less
// full), so a pass here is no looser than the target.
func TestLiveTokensFitIn300Bytes(t *testing.T) {
	const grants, users = 50_000, 1000
	clk := newTestClock()
	userIDs := make([]string, users)
	for i := range userIDs {
		userIDs[i] = "user-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s := New(Config{Now: clk.Now})
	for i := range grants {
		issue(t, s, clk.Now(), "client", userIDs[i%users], time.Hour)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perToken := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (2 * grants)
	t.Logf("%.1f bytes/token", perToken)
	if perToken > 300 {
		t.Errorf("the store holds %.1f bytes of heap per live token, over the 300 of the target", perToken)
	}
	runtime.KeepAlive(s)
}
