package storage

import (
	"encoding/hex"
	"strings"
	"testing"
)

// FuzzDecodeHexSum: decodeHexSum reads exactly what hex.DecodeString
// reads as 32 bytes, and refuses everything else.
func FuzzDecodeHexSum(f *testing.F) {
	f.Add(strings.Repeat("0f", 32))
	f.Add(strings.Repeat("AB", 32))
	f.Add(strings.Repeat("g0", 32))
	f.Add(strings.Repeat("0", 63) + "\xff")
	f.Add("abcd")
	f.Fuzz(func(t *testing.T, s string) {
		var got [32]byte
		ok := decodeHexSum(&got, s)
		want, err := hex.DecodeString(s)
		wantOK := err == nil && len(want) == len(got)
		if ok != wantOK {
			t.Fatalf("decodeHexSum(%q) = %v, hex.DecodeString: %v, %d bytes", s, ok, err, len(want))
		}
		if ok && string(got[:]) != string(want) {
			t.Fatalf("decodeHexSum(%q) = %x, want %x", s, got, want)
		}
	})
}
