package memory

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
)

// TestLimiterGivesMemoryBack: once a flood of keys has refilled and been
// swept, the Limiter holds about what an empty one does.
func TestLimiterGivesMemoryBack(t *testing.T) {
	const n = 200_000
	clk := newFakeNow()
	ctx := context.Background()
	r := storage.Rate{Burst: 5, Every: time.Second}
	before := heapNow()
	l := NewLimiter(LimiterConfig{Now: clk.Now})
	for i := range n {
		if _, err := l.Fail(ctx, fmt.Sprintf("flood-%07d", i), r); err != nil {
			t.Fatal(err)
		}
	}
	full := heapNow() - before
	clk.Advance(time.Minute)
	for i := 0; l.len() > 0 && i < 10*n; i++ {
		_, _ = l.Throttled(ctx, fmt.Sprint("probe-", i), r)
	}
	left := heapNow() - before
	t.Logf("keys left %d; heap with %d keys %d bytes, after they refilled %d", l.len(), n, full, left)
	if left > full/10 {
		t.Errorf("with no key left the Limiter holds %d bytes (%.0f%% of its peak)", left, 100*float64(left)/float64(full))
	}
	runtime.KeepAlive(l)
}
