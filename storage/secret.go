package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/oauth2provider/oauth2provider/internal/passhash"
)

// sha256Prefix marks a stored secret hashed with plain SHA-256, which is
// safe only for secrets with at least 256 bits of entropy (generated ones).
const sha256Prefix = "sha256$"

// NewClientSecret returns a new random client secret (256 bits from
// crypto/rand, base64url) and its stored form. Show the secret to the
// operator once; keep only the hash.
func NewClientSecret() (secret, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, HashGeneratedSecret(secret), nil
}

// HashGeneratedSecret returns the stored form of a secret made by
// [NewClientSecret] or with as much entropy: a SHA-256, which needs no slow
// hash because the secret cannot be guessed. Failed attempts at such a
// secret are not throttled, for the same reason: never store a guessable
// secret this way. Use [HashSecret] for a secret a person chose.
func HashGeneratedSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return sha256Prefix + hex.EncodeToString(sum[:])
}

// IsGeneratedSecretHash reports whether stored is the stored form of a
// generated secret ([HashGeneratedSecret]): one that cannot be guessed,
// so that failed attempts at it need no throttling.
func IsGeneratedSecretHash(stored string) bool {
	return strings.HasPrefix(stored, sha256Prefix)
}

// HashSecret returns the stored form of a secret a person chose: argon2id
// with a random salt, slow on purpose so a leaked hash resists guessing.
func HashSecret(secret string) (string, error) {
	return passhash.Hash(secret, passhash.Default)
}

// VerifySecret reports whether secret matches the stored form made by
// [HashGeneratedSecret] or [HashSecret] (bcrypt hashes are read too). The
// comparison is constant-time. An unreadable stored form never matches.
//
// Checking a secret a person chose waits its turn (see
// [VerifySecretContext]) however long it takes: a server checking the
// secret a request sent uses VerifySecretContext with the request's
// context.
func VerifySecret(stored, secret string) bool {
	if hexSum, ok := strings.CutPrefix(stored, sha256Prefix); ok {
		return verifyGenerated(hexSum, secret)
	}
	ok, err := passhash.Verify(stored, secret)
	return ok && err == nil
}

// VerifySecretContext is [VerifySecret] for a request's ctx. At most
// GOMAXPROCS argon2id checks run at once in the process (each holds
// 19 MiB while it runs), and the others wait their turn: when ctx ends
// before the check of a secret a person chose ([HashSecret]) starts, or
// while it waits, VerifySecretContext returns ctx's error and hashes
// nothing, so a client that went away costs no hashing and holds no
// turn. A check that has started runs to its end and is answered. A
// generated secret's stored form ([HashGeneratedSecret]) never waits: it
// is checked whatever ctx, as fast as VerifySecret checks it and without
// allocating.
//
// err is ctx's error or nil: an unreadable stored form never matches
// (false, nil), as with VerifySecret, but once ctx has ended every form
// other than a generated secret's is ctx's error. When err is set, ok is
// false and nothing was judged: it does not mean a wrong secret.
func VerifySecretContext(ctx context.Context, stored, secret string) (ok bool, err error) {
	if hexSum, ok := strings.CutPrefix(stored, sha256Prefix); ok {
		return verifyGenerated(hexSum, secret), nil
	}
	ok, err = passhash.VerifyContext(ctx, stored, secret)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			return false, err
		}
		return false, nil // an unreadable form, as VerifySecret reads it
	}
	return ok, nil
}

// readableSecretHash reports whether stored is a form VerifySecret
// reads (and, for argon2id and bcrypt, of a cost it accepts), without
// hashing anything.
func readableSecretHash(stored string) bool {
	if hexSum, ok := strings.CutPrefix(stored, sha256Prefix); ok {
		var sum [sha256.Size]byte
		return decodeHexSum(&sum, hexSum)
	}
	return passhash.Check(stored) == nil
}

// verifyGenerated reports, in constant time and without allocating,
// whether secret matches hexSum, the hex digits of a stored
// [HashGeneratedSecret] after its prefix.
func verifyGenerated(hexSum, secret string) bool {
	var want [sha256.Size]byte
	if !decodeHexSum(&want, hexSum) {
		return false
	}
	var buf [64]byte // a generated secret fits: hashed from the stack
	got := sha256.Sum256(append(buf[:0], secret...))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// decodeHexSum decodes the hex digits of a stored SHA-256 (either case,
// as hex.DecodeString reads them) into dst, without allocating, and
// reports whether s was exactly that.
func decodeHexSum(dst *[sha256.Size]byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	// An invalid digit has the top bit of its hexValue set: collected
	// over all of them and tested once, rather than a branch per digit.
	var bad byte
	for i := range dst {
		hi, lo := hexValue[s[2*i]], hexValue[s[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo
	}
	return bad&0x80 == 0
}

// hexValue maps a byte to its value as a hex digit of either case, or to
// 0xff when it is none.
var hexValue = func() (t [256]byte) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = byte(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			t[c] = byte(c - 'A' + 10)
		default:
			t[c] = 0xff
		}
	}
	return t
}()
