package storage

import "testing"

func BenchmarkVerifyGeneratedSecret(b *testing.B) {
	secret, hash, err := NewClientSecret()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !VerifySecret(hash, secret) {
			b.Fatal("no match")
		}
	}
}
