package memory

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
)

// BenchmarkLookupToken looks up random live access tokens from many
// goroutines in a store of 100k grants.
func BenchmarkLookupToken(b *testing.B) {
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	const n = 100_000
	refs := make([]storage.TokenRef, n)
	for i := range refs {
		_, refs[i], _ = issue(b, s, clk.Now(), "client", "user", time.Hour)
	}
	ctx := b.Context()
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := next.Add(7919) // spread goroutines over the refs
		for pb.Next() {
			i++
			if _, err := s.LookupToken(ctx, storage.KindAccess, refs[i%n]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCreateGrant issues grants with an access and a refresh token
// from many goroutines.
func BenchmarkCreateGrant(b *testing.B) {
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			issue(b, s, clk.Now(), "client", "user", time.Hour)
		}
	})
}

// BenchmarkMemoryPerToken reports the heap the store holds per live token
// after issuing 500k grants of an access and a refresh token (1M tokens)
// to 1000 users. Run it with -benchtime=1x.
func BenchmarkMemoryPerToken(b *testing.B) {
	const grants, users = 500_000, 1000
	for range b.N {
		clk := newTestClock()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := New(Config{Now: clk.Now})
		userIDs := make([]string, users)
		for i := range userIDs {
			userIDs[i] = "user-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
		}
		for i := range grants {
			issue(b, s, clk.Now(), "client", userIDs[i%users], time.Hour)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(2*grants), "bytes/token")
		runtime.KeepAlive(s)
		runtime.KeepAlive(userIDs)
	}
}

// BenchmarkLimiterAttempt is what a throttled attempt that succeeds costs
// the limiter: a failure reserved under two keys, then refunded.
func BenchmarkLimiterAttempt(b *testing.B) {
	l := NewLimiter(LimiterConfig{})
	r := storage.Rate{Burst: 5, Every: time.Minute}
	ctx := b.Context()
	for b.Loop() {
		for _, k := range [2]string{"ip", "user"} {
			if _, err := l.Reserve(ctx, k, r); err != nil {
				b.Fatal(err)
			}
		}
		for _, k := range [2]string{"ip", "user"} {
			if err := l.Refund(ctx, k, r); err != nil {
				b.Fatal(err)
			}
		}
	}
}
