package policy

import (
	"testing"
	"unsafe"
)

// The context node of a validated request, which holds its Identity,
// stays in the 112-byte size class: one of the two allocations of a
// bearer validation (docs/benchmarks.md), which a field more would take
// to 128 bytes.
func TestIdentityCtxFitsIn112Bytes(t *testing.T) {
	if n := unsafe.Sizeof(identityCtx{}); n > 112 {
		t.Fatalf("identityCtx is %d bytes; want at most 112", n)
	}
}
