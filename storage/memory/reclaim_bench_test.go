package memory

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// BenchmarkReclaim measures what reclaiming expired grants costs next to
// how much is stored: each op issues a grant that expires a second later,
// advances the clock past its expiry, and so leaves one expired grant for
// the later writes to reclaim (a write reclaims up to reclaimPerWrite of
// its shard's soonest expiries from a heap). With 10k and 1M long-lived
// grants stored, ns/op should be the same: the cost follows what expired,
// not what is stored.
//
// expire=none is the same without expiry: grants of a day, the clock
// still. It is the floor of the comparison, the cost of issuing into a
// store of that size (larger maps miss the CPU caches more), so that
// what reclaiming adds is the difference of the two.
func BenchmarkReclaim(b *testing.B) {
	for _, live := range []int{10_000, 1_000_000} {
		for _, expire := range []bool{true, false} {
			name := fmt.Sprintf("live=%d/expire=none", live)
			if expire {
				name = fmt.Sprintf("live=%d/expire=each", live)
			}
			b.Run(name, func(b *testing.B) { benchReclaim(b, live, expire) })
		}
	}
}

// benchReclaim is one case of BenchmarkReclaim.
func benchReclaim(b *testing.B, live int, expire bool) {
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	for range live {
		issue(b, s, clk.Now(), "client", "user", 24*time.Hour)
	}
	ttl := 24 * time.Hour
	if expire {
		ttl = time.Second
	}
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	for b.Loop() {
		issue(b, s, clk.Now(), "client", "user", ttl)
		if expire {
			clk.Advance(2 * time.Second)
		}
	}
	b.StopTimer()
	if expire {
		var stored int
		for i := range s.shards {
			stored += len(s.shards[i].grants)
		}
		b.ReportMetric(float64(stored-live), "unreclaimed")
	}
}
