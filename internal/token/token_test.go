package token

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewParseRoundTrip(t *testing.T) {
	gid, err := NewGrantID()
	require.NoError(t, err)
	for _, k := range []storage.TokenKind{storage.KindAccess, storage.KindRefresh, storage.KindSession, storage.KindCode} {
		tok, ref, err := New(k, gid)
		require.NoError(t, err)
		assert.Len(t, tok, Len)
		assert.True(t, strings.HasPrefix(tok, Prefix(k)))
		assert.Equal(t, k, KindOf(tok))
		got, err := Parse(k, tok)
		require.NoError(t, err)
		assert.Equal(t, ref, got)
		assert.Equal(t, gid, got.GrantID)
		assert.Equal(t, storage.HashToken(tok), got.Hash)
	}
}

func TestTokensAreUnique(t *testing.T) {
	gid, _ := NewGrantID()
	seen := map[string]bool{}
	for range 1000 {
		tok, _, err := New(storage.KindAccess, gid)
		require.NoError(t, err)
		require.False(t, seen[tok])
		seen[tok] = true
	}
}

func TestParseRefusesMalformed(t *testing.T) {
	gid, _ := NewGrantID()
	tok, _, _ := New(storage.KindAccess, gid)
	flip := func(i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	cases := map[string]string{
		"empty":          "",
		"short":          tok[:Len-1],
		"long":           tok + "A",
		"wrong kind":     "ort_" + tok[4:],
		"body changed":   flip(40),
		"grant changed":  flip(5),
		"sum changed":    flip(Len - 2),
		"bad alphabet":   tok[:30] + "+" + tok[31:],
		"nonzero spare":  tok[:Len-1] + string(alphabet[b64Value[tok[Len-1]]|1]),
		"bad sum char":   tok[:Len-3] + "=" + tok[Len-2:],
		"non-ASCII byte": tok[:10] + "\xff" + tok[11:],
		"NUL byte":       tok[:Len-1] + "\x00",
		"unknown prefix": "xyz_" + tok[4:],
		// The same with the right checksum, so that the check named is
		// the one that refuses them: the checksum covers the prefix and
		// every character, and would refuse them all on its own.
		"wrong kind, right checksum":            withSum("ort_" + tok[4:]),
		"unknown prefix, right checksum":        withSum("xyz_" + tok[4:]),
		"bad alphabet in body, right checksum":  withSum(tok[:30] + "+" + tok[31:]),
		"bad alphabet in grant, right checksum": withSum(tok[:5] + "/" + tok[6:]),
		"non-ASCII byte, right checksum":        withSum(tok[:10] + "\xff" + tok[11:]),
		// The first and last characters the alphabet check covers.
		"bad alphabet at the grant's start, right checksum": withSum(tok[:prefixLen] + "+" + tok[prefixLen+1:]),
		"bad alphabet at the body's end, right checksum":    withSum(tok[:Len-sumLen-1] + "/" + tok[Len-sumLen:]),
	}
	// Each of the checksum's 4 spare bits, not only the lowest.
	for bit := range 4 {
		cases[fmt.Sprintf("spare bit %d set", bit)] = tok[:Len-1] + string(alphabet[b64Value[tok[Len-1]]|1<<bit])
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(storage.KindAccess, s)
			assert.ErrorIs(t, err, ErrMalformed)
		})
	}
}

// withSum returns s, a token changed before its checksum, with the
// checksum of what precedes it.
func withSum(s string) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE([]byte(s[:Len-sumLen])))
	return s[:Len-sumLen] + base64.RawURLEncoding.EncodeToString(sum[:])
}

// A token carries 256 random bits: its body decodes to 32 bytes none of
// whose 8-byte quarters is all zero (for random bytes, a chance of 2^-64
// each).
func TestNewUsesAll256RandomBits(t *testing.T) {
	gid, _ := NewGrantID()
	for _, k := range []storage.TokenKind{storage.KindAccess, storage.KindRefresh} {
		tok, _, err := New(k, gid)
		require.NoError(t, err)
		body, err := base64.RawURLEncoding.DecodeString(tok[prefixLen+grantLen : Len-sumLen])
		require.NoError(t, err)
		require.Len(t, body, 32)
		for q := 0; q < 32; q += 8 {
			assert.NotZero(t, binary.BigEndian.Uint64(body[q:q+8]), "bytes %d-%d of %q", q, q+8, tok)
		}
	}
}

// A grant ID carries 128 random bits: it decodes to 16 bytes neither of
// whose 8-byte halves is all zero (for random bytes, a chance of 2^-64
// each). Grant IDs must not collide: a store keeps a grant's tokens
// under it.
func TestNewGrantIDUsesAll128RandomBits(t *testing.T) {
	for range 4 {
		gid, err := NewGrantID()
		require.NoError(t, err)
		require.Len(t, gid, grantLen)
		raw, err := base64.RawURLEncoding.DecodeString(gid)
		require.NoError(t, err)
		require.Len(t, raw, 16)
		for h := 0; h < 16; h += 8 {
			assert.NotZero(t, binary.BigEndian.Uint64(raw[h:h+8]), "bytes %d-%d of %q", h, h+8, gid)
		}
	}
}

func TestKindOf(t *testing.T) {
	for s, want := range map[string]storage.TokenKind{
		"":      0,
		"o":     0,
		"oat":   0,
		"oat_":  storage.KindAccess,
		"ort_x": storage.KindRefresh,
		"ost_x": storage.KindSession,
		"oac_x": storage.KindCode,
		"oxx_x": 0,
		"OAT_x": 0,
	} {
		assert.Equal(t, want, KindOf(s), "%q", s)
	}
}

// A kind with no prefix of its own (0, or one this package does not
// know) has a prefix no token carries, so Parse refuses every token as
// such a kind instead of reading it as an access token, say.
func TestPrefixOfAnUnknownKindIsNoTokens(t *testing.T) {
	gid, _ := NewGrantID()
	for _, unknown := range []storage.TokenKind{0, 99} {
		for _, k := range []storage.TokenKind{storage.KindAccess, storage.KindRefresh, storage.KindSession, storage.KindCode} {
			assert.NotEqual(t, Prefix(k), Prefix(unknown), "kinds %v and %v", k, unknown)
			tok, _, err := New(k, gid)
			require.NoError(t, err)
			_, err = Parse(unknown, tok)
			assert.ErrorIs(t, err, ErrMalformed, "a %v token parsed as kind %v", k, unknown)
		}
	}
}

func TestNewRefusesBadGrantID(t *testing.T) {
	_, _, err := New(storage.KindAccess, "short")
	assert.Error(t, err)
}

func TestParseDoesNotAllocate(t *testing.T) {
	gid, _ := NewGrantID()
	tok, _, _ := New(storage.KindAccess, gid)
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = Parse(storage.KindAccess, tok)
	})
	assert.Zero(t, allocs)
}

// FuzzParse: a string Parse accepts as a token of one kind is shaped as
// one (its prefix, its length), of that kind alone, and hashes and names
// its grant consistently; the tokens New makes of every kind parse (for a grant ID of NewGrantID's
// alphabet).
func FuzzParse(f *testing.F) {
	gid, _ := NewGrantID()
	tok, _, _ := New(storage.KindAccess, gid)
	f.Add(tok, uint8(0))
	f.Add(tok, uint8(1))
	f.Add("", uint8(0))
	f.Add("oat_", uint8(0))
	f.Add(strings.Repeat("A", Len), uint8(2))
	kinds := []storage.TokenKind{storage.KindAccess, storage.KindRefresh, storage.KindSession, storage.KindCode}
	f.Fuzz(func(t *testing.T, s string, k uint8) {
		kind := kinds[int(k)%len(kinds)]
		if len(s) == Len {
			// With s's grant ID, where it is one (NewGrantID's alphabet).
			made, _, err := New(kind, s[prefixLen:prefixLen+grantLen])
			if err == nil && strings.Trim(s[prefixLen:prefixLen+grantLen], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == "" {
				if ref, err := Parse(kind, made); err != nil || ref.Hash != storage.HashToken(made) || KindOf(made) != kind {
					t.Fatalf("Parse(%v, %q), a token New made: %+v, %v", kind, made, ref, err)
				}
			}
		}
		ref, err := Parse(kind, s)
		if err != nil {
			return
		}
		// Anything accepted is shaped like a token and hashes consistently.
		if len(s) != Len || !strings.HasPrefix(s, Prefix(kind)) || KindOf(s) != kind || ref.Hash != storage.HashToken(s) || ref.GrantID != s[4:26] {
			t.Fatalf("accepted %q as %v: %+v", s, kind, ref)
		}
		for _, other := range kinds {
			if _, err := Parse(other, s); other != kind && err == nil {
				t.Fatalf("%q accepted as %v and %v", s, kind, other)
			}
		}
	})
}

// FuzzParseMatchesStrictBase64: Parse accepts exactly what strict
// base64url decoding and the CRC-32 say is a token, for any change of a
// real token's characters.
func FuzzParseMatchesStrictBase64(f *testing.F) {
	gid, _ := NewGrantID()
	tok, _, _ := New(storage.KindAccess, gid)
	f.Add(tok, 0, byte('A'))
	f.Add(tok, Len-1, byte('B'))
	f.Add(tok, 30, byte('+'))
	f.Fuzz(func(t *testing.T, base string, at int, c byte) {
		if len(base) != Len {
			base = tok
		}
		b := []byte(base)
		b[(at%Len+Len)%Len] = c
		s := string(b)
		_, err := Parse(storage.KindAccess, s)
		if got, want := err == nil, wellFormed(s); got != want {
			t.Fatalf("Parse(%q) accepts: %v, strict base64 and CRC-32: %v", s, got, want)
		}
	})
}

// wellFormed is the definition Parse implements, with the standard
// library: the prefix, the grant ID and body in the base64url alphabet,
// and the checksum the strict base64url encoding of the CRC-32 of the
// rest.
func wellFormed(s string) bool {
	if len(s) != Len || !strings.HasPrefix(s, "oat_") {
		return false
	}
	for _, c := range []byte(s[prefixLen : Len-sumLen]) {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", rune(c)) {
			return false
		}
	}
	sum, err := base64.RawURLEncoding.Strict().DecodeString(s[Len-sumLen:])
	if err != nil || len(sum) != 4 || strings.ContainsAny(s[Len-sumLen:], "\r\n") {
		return false
	}
	return binary.BigEndian.Uint32(sum) == crc32.ChecksumIEEE([]byte(s[:Len-sumLen]))
}

// BenchmarkParse is the format check of every bearer request: length,
// prefix, alphabet and checksum, then the SHA-256 a store looks it up by.
func BenchmarkParse(b *testing.B) {
	gid, _ := NewGrantID()
	tok, _, _ := New(storage.KindAccess, gid)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(storage.KindAccess, tok); err != nil {
			b.Fatal(err)
		}
	}
}
