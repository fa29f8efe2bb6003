// Package token mints and parses the provider's opaque tokens.
//
// A token is a type prefix, the grant ID (22 base64url characters), 256
// random bits from crypto/rand in base64url and a CRC-32 checksum of all
// that, e.g. "oat_<22><43><6>". The grant ID is not secret; it lets a store
// keep a grant and its tokens together. The checksum lets a malformed or
// mistyped token be refused without a store lookup; it is no defence
// against forgery, which the 256 random bits are.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"unsafe"

	"github.com/oauth2provider/oauth2provider/storage"
)

const (
	prefixLen = 4  // "oat_"
	grantLen  = 22 // base64url of 16 bytes, unpadded
	bodyLen   = 43 // base64url of 32 bytes, unpadded
	sumLen    = 6  // base64url of 4 bytes, unpadded
	// Len is the length of every token string.
	Len = prefixLen + grantLen + bodyLen + sumLen
)

var enc = base64.RawURLEncoding

// ErrMalformed reports a string that is no token of the expected kind.
var ErrMalformed = errors.New("token: malformed")

// Prefix returns the type prefix of tokens of kind k.
func Prefix(k storage.TokenKind) string {
	switch k {
	case storage.KindAccess:
		return "oat_"
	case storage.KindRefresh:
		return "ort_"
	case storage.KindSession:
		return "ost_"
	case storage.KindCode:
		return "oac_"
	}
	return "oxx_"
}

// NewGrantID returns a new random grant ID: 128 bits, 22 base64url
// characters.
func NewGrantID() (string, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return GrantIDFrom(&raw), nil
}

// GrantIDFrom returns the grant ID made of random, 128 bits that came
// from crypto/rand and serve nothing else.
func GrantIDFrom(random *[16]byte) string {
	return enc.EncodeToString(random[:])
}

// New mints a token of kind k for the grant grantID (from NewGrantID) and
// returns it with the reference a store finds it by.
func New(k storage.TokenKind, grantID string) (string, storage.TokenRef, error) {
	var random [32]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", storage.TokenRef{}, err
	}
	return NewFrom(k, grantID, &random)
}

// NewFrom is New with the token's 256 random bits given: they must come
// from crypto/rand and serve no other token or grant ID. It lets a caller
// that mints several tokens read their randomness in one call.
func NewFrom(k storage.TokenKind, grantID string, random *[32]byte) (string, storage.TokenRef, error) {
	if len(grantID) != grantLen {
		return "", storage.TokenRef{}, errors.New("token: bad grant ID")
	}
	// One allocation, which becomes the string: crc32 (assembly behind a
	// function variable) would move a stack buffer to the heap anyway.
	b := make([]byte, Len)
	copy(b, Prefix(k))
	copy(b[prefixLen:], grantID)
	enc.Encode(b[prefixLen+grantLen:], random[:])
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(b[:Len-sumLen]))
	enc.Encode(b[Len-sumLen:], sum[:])
	ref := storage.TokenRef{GrantID: grantID, Hash: sha256.Sum256(b)}
	return unsafe.String(unsafe.SliceData(b), Len), ref, nil // #nosec G103 -- b is never written again: the string is its only reference
}

// Parse checks that s is well formed as a token of kind k (length,
// prefix, alphabet, checksum) and returns the reference a store finds it
// by. It does not allocate beyond the returned grant ID, which shares s.
func Parse(k storage.TokenKind, s string) (storage.TokenRef, error) {
	if len(s) != Len || s[:prefixLen] != Prefix(k) {
		return storage.TokenRef{}, ErrMalformed
	}
	var whole [Len]byte // hashing a stack copy keeps Parse allocation-free
	copy(whole[:], s)
	// The alphabet, over the grant ID, the body and the checksum: an
	// invalid byte has the top bit of its b64Value set. Accumulated rather
	// than tested byte by byte, which costs a branch per byte.
	var bad byte
	for _, c := range whole[prefixLen:] {
		bad |= b64Value[c]
	}
	if bad&0x80 != 0 {
		return storage.TokenRef{}, ErrMalformed
	}
	// The checksum: 6 characters are 36 bits, 4 bytes and 4 spare bits,
	// which must be zero (strict base64: one spelling per checksum).
	var v uint64
	for _, c := range whole[Len-sumLen:] {
		v = v<<6 | uint64(b64Value[c])
	}
	if v&0xf != 0 {
		return storage.TokenRef{}, ErrMalformed
	}
	// crc32 (assembly behind a function variable) would move a stack
	// buffer to the heap, so it reads s's own bytes, which it never writes.
	body := unsafe.Slice(unsafe.StringData(s), Len-sumLen) // #nosec G103 -- read-only view of s, whose length was checked to be Len; crc32 never writes it
	if v>>4 != uint64(crc32.ChecksumIEEE(body)) {
		return storage.TokenRef{}, ErrMalformed
	}
	return storage.TokenRef{GrantID: s[prefixLen : prefixLen+grantLen], Hash: sha256.Sum256(whole[:])}, nil
}

// KindOf returns the kind whose prefix s carries, or 0.
func KindOf(s string) storage.TokenKind {
	if len(s) < prefixLen {
		return 0
	}
	for _, k := range []storage.TokenKind{storage.KindAccess, storage.KindRefresh, storage.KindSession, storage.KindCode} {
		if s[:prefixLen] == Prefix(k) {
			return k
		}
	}
	return 0
}

// b64Value maps a byte to its value as a base64url digit (0-63), or to
// 0xff when it is none.
var b64Value = func() (t [256]byte) {
	for c := range t {
		t[c] = 0xff
	}
	for i := range 64 {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// alphabet is the base64url alphabet, in digit order.
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
