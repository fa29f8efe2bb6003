package memory

import (
	"fmt"
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
func BenchmarkReclaim(b *testing.B) {
	for _, live := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("live=%d", live), func(b *testing.B) {
			clk := newTestClock()
			s := New(Config{Now: clk.Now})
			for range live {
				issue(b, s, clk.Now(), "client", "user", 24*time.Hour)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				issue(b, s, clk.Now(), "client", "user", time.Second)
				clk.Advance(2 * time.Second)
			}
			b.StopTimer()
			var expired int
			for i := range s.shards {
				expired += len(s.shards[i].expiries)
			}
			b.ReportMetric(float64(expired-live), "unreclaimed")
		})
	}
}
