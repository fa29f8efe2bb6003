package wallclock

import (
	"testing"
	"time"
)

// TestNowIsTheWallClock checks Now against time.Now read around it: never
// before the earlier reading (an expiry judged by Now is never judged
// late), less than a microsecond after the later one, and without a
// monotonic reading.
func TestNowIsTheWallClock(t *testing.T) {
	for range 1000 {
		before := time.Now().Round(0)
		got := Now()
		after := time.Now().Round(0).Add(time.Microsecond - 1)
		if got.Before(before) || got.After(after) {
			t.Fatalf("Now() = %v, outside [%v, %v]", got, before, after)
		}
		if got != got.Round(0) {
			t.Fatalf("Now() = %v carries a monotonic reading", got)
		}
	}
}

func BenchmarkNow(b *testing.B) {
	b.Run("clock=wallclock", func(b *testing.B) {
		for b.Loop() {
			_ = Now()
		}
	})
	b.Run("clock=time.Now", func(b *testing.B) {
		for b.Loop() {
			_ = time.Now()
		}
	})
}
