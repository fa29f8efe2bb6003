package provider

import (
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkGates takes and releases throttle gates from GOMAXPROCS
// goroutines, each under its own keys (attempts from different clients
// and addresses). Run it with -cpu 1,2: without a lock shared by all
// keys, ns/op halves.
func BenchmarkGates(b *testing.B) {
	gs := newGates()
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		n := next.Add(1)
		keys := make([]string, 64)
		for i := range keys {
			keys[i] = hashKey("client", netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), strconv.FormatInt(n, 10))
		}
		ctx := b.Context()
		i := 0
		for pb.Next() {
			gt, err := gs.lock(ctx, keys[i%len(keys)])
			if err != nil {
				b.Error(err)
				return
			}
			gs.unlock(gt)
			i++
		}
	})
}
