package storage

import (
	"bytes"
	"crypto/sha256"
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

// FuzzVerifySecret: whatever a stored sha256$ form holds (a tampered or
// corrupted row), VerifySecret accepts a secret exactly when the form is
// "sha256$" and 64 hex digits (either case) of the secret's SHA-256;
// and the form HashGeneratedSecret makes accepts its secret alone.
func FuzzVerifySecret(f *testing.F) {
	sum := sha256.Sum256([]byte("s3cret"))
	f.Add(hex.EncodeToString(sum[:]), "s3cret", "s3cret ")
	f.Add(strings.ToUpper(hex.EncodeToString(sum[:])), "s3cret", "")
	f.Add(hex.EncodeToString(sum[:])+"0", "s3cret", "S3cret")
	f.Add(" "+hex.EncodeToString(sum[:31]), "s3cret", "\x00")
	f.Add("", "", "x")
	f.Fuzz(func(t *testing.T, hexSum, secret, other string) {
		stored := "sha256$" + hexSum
		want, err := hex.DecodeString(hexSum)
		s := sha256.Sum256([]byte(secret))
		ok := err == nil && bytes.Equal(want, s[:])
		if got := VerifySecret(stored, secret); got != ok {
			t.Fatalf("VerifySecret(%q, %q) = %v, want %v", stored, secret, got, ok)
		}
		h := HashGeneratedSecret(secret)
		if !IsGeneratedSecretHash(h) || !VerifySecret(h, secret) {
			t.Fatalf("the hash %q of %q refuses it", h, secret)
		}
		if other != secret && VerifySecret(h, other) {
			t.Fatalf("the hash of %q accepts %q", secret, other)
		}
	})
}
