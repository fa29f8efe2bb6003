// Package passhash hashes and verifies secrets that people choose
// (passwords, hand-picked client secrets) with argon2id, and verifies bcrypt
// hashes made elsewhere. The stored form names its algorithm.
package passhash

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default follows the OWASP argon2id recommendation (19 MiB, 2 passes, 1 lane).
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// idKey computes an argon2id key; tests replace it to watch how many
// run at once.
var idKey = argon2.IDKey

// argon2Slots bounds the argon2id computations running at once in the
// process. Each holds its Params.Memory (19 MiB by default) while it
// runs, and requests can start them faster than they end: the provider
// checks a password or a client secret a person chose for every request
// within the throttle's burst (30 per client IP, per /64 for IPv6), so a
// few dozen unauthenticated requests from each of many addresses would
// otherwise hold gigabytes. A computation is CPU-bound on one lane, so
// running more of them than GOMAXPROCS at once gains no throughput: the
// others wait here for a slot, holding nothing but their goroutine.
var argon2Slots = make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))

// argon2Key is idKey within one of argon2Slots. It returns ctx's error,
// computing nothing, when ctx ends before a slot is free.
func argon2Key(ctx context.Context, secret string, salt []byte, p Params, keyLen uint32) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case argon2Slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-argon2Slots }()
	return idKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, keyLen), nil
}

const (
	saltLen = 16
	keyLen  = 32
)

var b64 = base64.RawStdEncoding

// b64Strict reads only what b64 writes: unused bits of the last
// character must be zero, as the reference decoder requires (the
// decoder still skips CR and LF: parseArgon2id refuses them).
var b64Strict = b64.Strict()

// ErrUnknownFormat reports a stored hash in no form this package reads,
// or of a cost it refuses. Its text names authcheck, the package whose
// callers see it (VerifyPassword, Static.AddHash; storage reads an
// unreadable secret hash as no match and shows no error).
var ErrUnknownFormat = errors.New("authcheck: unreadable password hash: not argon2id or bcrypt ($2a$, $2b$, $2y$), malformed, or of a cost over the limit")

// Hash returns the argon2id hash of secret in PHC string form
// ($argon2id$v=19$m=...,t=...,p=...$salt$key).
func Hash(secret string, p Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := argon2Key(context.Background(), secret, salt, p, keyLen)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Check returns nil when Verify can read stored and accepts its cost,
// else ErrUnknownFormat.
func Check(stored string) error {
	switch {
	case strings.HasPrefix(stored, "$argon2id$"):
		_, _, _, err := parseArgon2id(stored)
		return err
	case strings.HasPrefix(stored, "$2a$"), strings.HasPrefix(stored, "$2b$"), strings.HasPrefix(stored, "$2y$"):
		return checkBcrypt(stored)
	}
	return ErrUnknownFormat
}

// checkBcrypt returns ErrUnknownFormat unless stored has a bcrypt hash's
// length, a cost Verify accepts and salt and hash in bcrypt's base64
// alphabet (x/crypto decodes the salt only when it verifies).
func checkBcrypt(stored string) error {
	if cost, err := bcrypt.Cost([]byte(stored)); err != nil || cost > maxBcryptCost || len(stored) != bcryptLen {
		return ErrUnknownFormat
	}
	// bcrypt.Cost reads the cost with strconv.Atoi, which takes "+9".
	if c := stored[4:6]; c[0] < '0' || c[0] > '9' || c[1] < '0' || c[1] > '9' {
		return ErrUnknownFormat
	}
	// bcrypt.Cost read a two-digit cost: salt and hash start at byte 7.
	for i := len("$2b$10$"); i < len(stored); i++ {
		if strings.IndexByte(bcryptAlphabet, stored[i]) < 0 {
			return ErrUnknownFormat
		}
	}
	return nil
}

// bcryptAlphabet is the base64 alphabet of bcrypt's salt and hash.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// bcryptLen is the length of every bcrypt hash: "$2b$", the cost, "$",
// and 53 characters of salt and hash.
const bcryptLen = 60

// Verify reports whether secret matches the stored argon2id or bcrypt hash.
// The comparison of derived keys is constant-time.
func Verify(stored, secret string) (bool, error) {
	return VerifyContext(context.Background(), stored, secret)
}

// VerifyContext is Verify for a request: when ctx ends before the check
// starts, or while it waits for an argon2id slot, it returns ctx's error
// and computes nothing (a started computation runs to its end).
func VerifyContext(ctx context.Context, stored, secret string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	switch {
	case strings.HasPrefix(stored, "$argon2id$"):
		return verifyArgon2id(ctx, stored, secret)
	case strings.HasPrefix(stored, "$2a$"), strings.HasPrefix(stored, "$2b$"), strings.HasPrefix(stored, "$2y$"):
		if err := checkBcrypt(stored); err != nil {
			return false, err
		}
		err := bcrypt.CompareHashAndPassword([]byte(stored), []byte(secret))
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, nil
		}
		return err == nil, err
	}
	return false, ErrUnknownFormat
}

// maxMemory bounds the memory cost a stored hash may ask for (1 GiB), and
// maxWork its memory times passes (4 GiB of passes, a few seconds), so a
// tampered hash cannot exhaust the server. maxBcryptCost does the same for
// bcrypt (cost 16 takes seconds; each step doubles it, up to days at 31).
const (
	maxMemory     = 1 << 20
	maxWork       = 4 << 20
	maxBcryptCost = 16
)

func verifyArgon2id(ctx context.Context, stored, secret string) (bool, error) {
	p, salt, key, err := parseArgon2id(stored)
	if err != nil {
		return false, err
	}
	got, err := argon2Key(ctx, secret, salt, p, uint32(len(key))) // #nosec G115 -- parseArgon2id bounds len(key) to 16..128
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// parseArgon2id reads $argon2id$v=19$m=..,t=..,p=..$salt$key and refuses
// parameters no hash of ours would carry.
func parseArgon2id(stored string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(stored, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || strings.ContainsAny(stored, "\r\n") {
		return p, nil, nil, ErrUnknownFormat
	}
	v, ok := field(parts[2], "v")
	if !ok || v != argon2.Version {
		return p, nil, nil, ErrUnknownFormat
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return p, nil, nil, ErrUnknownFormat
	}
	m, okM := field(params[0], "m")
	t, okT := field(params[1], "t")
	threads, okP := field(params[2], "p")
	if !okM || !okT || !okP || threads > 255 {
		return p, nil, nil, ErrUnknownFormat
	}
	p = Params{Memory: m, Time: t, Threads: uint8(threads)} // #nosec G115 -- bounded just above
	if p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > 64 || p.Threads == 0 ||
		uint64(p.Memory)*uint64(p.Time) > maxWork {
		return p, nil, nil, ErrUnknownFormat
	}
	if salt, err = b64Strict.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, ErrUnknownFormat
	}
	if key, err = b64Strict.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, ErrUnknownFormat
	}
	return p, salt, key, nil
}

// field reads name=N, N a decimal uint32 in canonical form (digits
// only, no sign, space or leading zero), the only form the reference
// implementation writes and reads. Sscanf took "p=1x", "m=+8", "v= 19" and
// "p=1,data=..." (read as p=1, the data ignored), so a hash another tool
// reads differently, or refuses, was verified here as something else.
func field(s, name string) (uint32, bool) {
	digits, ok := strings.CutPrefix(s, name+"=")
	if !ok || digits == "" || len(digits) > 10 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(digits[i]-'0')
	}
	if n > math.MaxUint32 {
		return 0, false
	}
	return uint32(n), true // #nosec G115 -- bounded just above
}

// dummy is an argon2id hash, at the Default cost, of a password nobody
// has, made once and kept here (TestDummyIsOneComputationFromTheFirst
// checks that its cost is Default's): what it hashes does not matter,
// only that a check against it costs what a check against a user's does.
const dummy = "$argon2id$v=19$m=19456,t=2,p=1$goLT8yhA15r8Jz2KcOl2gQ$mY9AzuGsGQXTaFHM81+gxJESkrb062+txMq9Hro+Usc"

// Dummy returns a hash with the Default parameters for verifying against
// when there is no real hash (an unknown user), so that case costs the
// same time as a wrong secret. It is a constant: it costs nothing, from
// the first call on, and a check against it waits for its argon2id slot
// as any other does (VerifyContext gives up when its ctx ends).
func Dummy() string { return dummy }
