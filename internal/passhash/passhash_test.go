package passhash

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h, err := Hash("pw", cheap)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$"))
	ok, err := Verify(h, "pw")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = Verify(h, "pW")
	require.NoError(t, err)
	assert.False(t, ok)

	h2, _ := Hash("pw", cheap)
	assert.NotEqual(t, h, h2, "salted")
}

func TestVerifyRefusesTamperedHashes(t *testing.T) {
	h, _ := Hash("pw", cheap)
	parts := strings.Split(h, "$")
	for name, bad := range map[string]string{
		"empty":           "",
		"unknown alg":     "$scrypt$x",
		"too few parts":   "$argon2id$v=19$m=64,t=1,p=1$salt",
		"wrong version":   strings.Replace(h, "v=19", "v=16", 1),
		"huge memory":     strings.Replace(h, "m=64", "m=99999999", 1),
		"zero time":       strings.Replace(h, "t=1", "t=0", 1),
		"bad salt base64": strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"bad key base64":  strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "!!"}, "$"),
	} {
		t.Run(name, func(t *testing.T) {
			ok, err := Verify(bad, "pw")
			assert.False(t, ok)
			assert.Error(t, err)
		})
	}
}

func TestDummyUsesDefaultParams(t *testing.T) {
	assert.True(t, strings.HasPrefix(Dummy(), "$argon2id$v=19$m=19456,t=2,p=1$"))
	assert.Equal(t, Dummy(), Dummy(), "made once")
}

// FuzzParseArgon2id: what parseArgon2id accepts has its costs in range,
// and is the canonical PHC string of what it read, the only form the
// reference implementation writes (decimal fields without sign or
// leading zero, unpadded standard base64 without line breaks, no further
// parameter): any other spelling is refused, not read as something else.
func FuzzParseArgon2id(f *testing.F) {
	h, _ := Hash("pw", cheap)
	f.Add(h)
	f.Add("$argon2id$v=19$m=1,t=1,p=1$$")
	f.Add("$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5")
	f.Add("$argon2id$v=19$m=08,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHR$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Fuzz(func(t *testing.T, stored string) {
		p, salt, key, err := parseArgon2id(stored)
		if err != nil {
			return
		}
		if p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > 64 || uint64(p.Memory)*uint64(p.Time) > maxWork || p.Threads == 0 || len(salt) < 8 || len(key) < 16 || len(key) > 128 {
			t.Fatalf("accepted out-of-range hash %q: %+v", stored, p)
		}
		canon := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Time, p.Threads,
			base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
		if stored != canon {
			t.Fatalf("accepted %q, read as %q", stored, canon)
		}
	})
}

// A stored hash is data: one with absurd costs (a tampered row, a bad
// import) must be refused at once, not computed for hours per request.
func TestVerifyRefusesAbsurdCosts(t *testing.T) {
	cheapBcrypt, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		// cost 31: 2^27 times the work of cost 4, days of CPU
		_, err := Verify(strings.Replace(string(cheapBcrypt), "$04$", "$31$", 1), "pw")
		done <- err
	}()
	select {
	case err := <-done:
		assert.Error(t, err, "bcrypt cost 31 must be refused")
	case <-time.After(2 * time.Second):
		t.Fatal("Verify computed a bcrypt hash of cost 31")
	}

	h, _ := Hash("pw", cheap)
	// 1 GiB for 64 passes: minutes of CPU per attempt
	_, _, _, err = parseArgon2id(strings.Replace(strings.Replace(h, "m=64", "m=1048576", 1), "t=1", "t=64", 1))
	assert.Error(t, err, "argon2id with 64 GiB of work must be refused")
	// costly but sane hashes are read
	for _, params := range []string{"m=1048576,t=3,p=4", "m=65536,t=64,p=1"} {
		_, _, _, err = parseArgon2id(strings.Replace(h, "m=64,t=1,p=1", params, 1))
		assert.NoError(t, err, params)
	}
}

// Check agrees with Verify: what it accepts Verify reads (a wrong secret
// is a mismatch, not an error), what it refuses Verify refuses.
func TestCheckAgreesWithVerify(t *testing.T) {
	argon, err := Hash("pw", cheap)
	require.NoError(t, err)
	b, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	for _, h := range []string{argon, string(b)} {
		assert.NoError(t, Check(h), h)
		ok, err := Verify(h, "wrong")
		assert.False(t, ok)
		assert.NoError(t, err, h)
	}
	for _, h := range []string{"", "plaintext", "$argon2id$garbage", strings.Replace(argon, "t=1", "t=0", 1),
		string(b[:len(b)-1]), strings.Replace(string(b), "$04$", "$31$", 1), "$2b$10$short",
		string(b[:7]) + "!" + string(b[8:]), // a salt character out of bcrypt's alphabet
	} {
		assert.ErrorIs(t, Check(h), ErrUnknownFormat, h)
		_, err := Verify(h, "pw")
		assert.Error(t, err, h)
	}
}

// FuzzCheckAgreesWithVerify: whatever a stored hash holds (a tampered
// row, a bad import), Check accepts exactly what Verify reads without an
// error, and an accepted argon2id hash written back in canonical form
// reads the same. Verify runs only on hashes cheap to compute (bcrypt
// cost 4 or 5, argon2id of at most 1 MiB·pass), so that the target stays
// fast; Check is judged on every input.
func FuzzCheckAgreesWithVerify(f *testing.F) {
	argon, _ := Hash("pw", cheap)
	b, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	for _, h := range []string{argon, string(b), "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=+8,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=8,t=1,p=1x$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		string(b[:7]) + "!" + string(b[8:]), strings.Replace(string(b), "$04$", "$4$", 1), "$2y$05$" + string(b[7:]), ""} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, stored string) {
		checked := Check(stored)
		if checked != nil && !errors.Is(checked, ErrUnknownFormat) {
			t.Fatalf("Check(%q) = %v", stored, checked)
		}
		if p, salt, key, err := parseArgon2id(stored); err == nil {
			canon := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
			p2, salt2, key2, err := parseArgon2id(canon)
			if err != nil || p2 != p || !bytes.Equal(salt2, salt) || !bytes.Equal(key2, key) {
				t.Fatalf("%q reads as %+v, but its canonical form %q as %+v (%v)", stored, p, canon, p2, err)
			}
			if uint64(p.Memory)*uint64(p.Time) > 1024 {
				return
			}
		} else if cost, err := bcrypt.Cost([]byte(stored)); err != nil || cost > 5 {
			return
		}
		_, err := Verify(stored, "pw")
		if (err == nil) != (checked == nil) {
			t.Fatalf("Check(%q) = %v, but Verify: %v", stored, checked, err)
		}
	})
}

// Hashes written by the Argon2 reference implementation (its test
// vectors: argon2 -id, password "password", salt "somesalt", 32-byte
// tag), which argon2-cffi and the argon2 CLI write in the same form.
func TestVerifyReferenceArgon2idVectors(t *testing.T) {
	for _, h := range []string{
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
	} {
		require.NoError(t, Check(h), h)
		ok, err := Verify(h, "password")
		require.NoError(t, err, h)
		assert.True(t, ok, h)
		ok, err = Verify(h, "passwore")
		require.NoError(t, err, h)
		assert.False(t, ok, h)
	}
}

// A stored hash is data from the app's database: a parameter field in
// any form but the canonical one (as the reference decoder also refuses
// it) is unreadable, an error, not a hash read as something else. A PHC
// string with a further parameter (keyid, data) names a key that this
// package does not compute: read by a prefix, it was a wrong password for
// the right one.
func TestParseArgon2idRefusesNonCanonicalFields(t *testing.T) {
	const good = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	require.NoError(t, Check(good))
	for _, bad := range []string{
		strings.Replace(good, "v=19", "v=19x", 1),
		strings.Replace(good, "v=19", "v=+19", 1),
		strings.Replace(good, "v=19", "v=019", 1),
		strings.Replace(good, "v=19", "v= 19", 1),
		strings.Replace(good, "m=256", "m=+256", 1),
		strings.Replace(good, "m=256", "m=0256", 1),
		strings.Replace(good, "m=256", "m= 256", 1),
		strings.Replace(good, "t=2", "t=2 ", 1),
		strings.Replace(good, "p=1", "p=1x", 1),
		strings.Replace(good, "p=1", "p=1,data=c29tZQ", 1),
		strings.Replace(good, "p=1", "p=1,keyid=a2V5", 1),
		strings.Replace(good, "m=256,t=2,p=1", "t=2,m=256,p=1", 1),
		strings.Replace(good, "m=256,t=2,p=1", "m=256, t=2, p=1", 1),
		strings.Replace(good, "c29tZXNhbHQ", "c29tZXNhbHR", 1), // non-zero padding bits
		strings.Replace(good, "c29tZXNhbHQ", "c29tZXNh\nbHQ", 1),
		strings.Replace(good, "nf65EOgLrQMR", "nf65EOgL\r\nrQMR", 1),
	} {
		assert.ErrorIs(t, Check(bad), ErrUnknownFormat, bad)
		_, err := Verify(bad, "password")
		assert.Error(t, err, bad)
	}
}

// bcrypt's cost is two digits: x/crypto reads it with strconv.Atoi, which
// takes "+9" for 09, a form no bcrypt implementation writes.
func TestCheckRefusesSignedBcryptCost(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	bad := strings.Replace(string(b), "$04$", "$+4$", 1)
	assert.ErrorIs(t, Check(bad), ErrUnknownFormat)
	_, err = Verify(bad, "pw")
	assert.Error(t, err)
}

// The bounds parseArgon2id puts on a stored hash, each at its edge: the
// last value accepted and the first refused. A decimal field too long for
// a uint32 is refused, not read modulo 2^64 ("m=18446744073709551680" is
// not m=64), and p is a uint8 that a larger number must not wrap into
// ("p=257" is not p=1).
func TestParseArgon2idBounds(t *testing.T) {
	salt := func(n int) string { return b64.EncodeToString(bytes.Repeat([]byte{7}, n)) }
	hash := func(params string, saltLen, keyLen int) string {
		return "$argon2id$v=19$" + params + "$" + salt(saltLen) + "$" + salt(keyLen)
	}
	for _, good := range []string{
		hash("m=1048576,t=4,p=1", 16, 32), // maxMemory, and maxWork
		hash("m=64,t=64,p=1", 16, 32),
		hash("m=64,t=1,p=255", 16, 32),
		hash("m=64,t=1,p=1", 8, 16),
		hash("m=64,t=1,p=1", 16, 128),
	} {
		_, _, _, err := parseArgon2id(good)
		assert.NoError(t, err, good)
	}
	for _, bad := range []string{
		hash("m=1048577,t=1,p=1", 16, 32), // over maxMemory within maxWork
		hash("m=64,t=65,p=1", 16, 32),
		hash("m=0,t=1,p=1", 16, 32),
		hash("m=64,t=0,p=1", 16, 32),
		hash("m=64,t=1,p=0", 16, 32), // argon2.IDKey panics on no lane
		hash("m=64,t=1,p=256", 16, 32),
		hash("m=64,t=1,p=257", 16, 32),
		hash("m=64,t=1,p=1", 7, 32),
		hash("m=64,t=1,p=1", 16, 15),
		hash("m=64,t=1,p=1", 16, 129),
		hash("m=18446744073709551680,t=1,p=1", 16, 32),  // 2^64+64
		hash("m=64,t=18446744073709551617,p=1", 16, 32), // 2^64+1
		hash("m=64,t=1,p=18446744073709551617", 16, 32),
		hash("m=4294967360,t=1,p=1", 16, 32), // 2^32+64
	} {
		assert.ErrorIs(t, Check(bad), ErrUnknownFormat, bad)
	}
}

// Verify compares every byte of the derived key with the stored one, for
// keys of any length the reference implementation writes (its -l option;
// parseArgon2id reads 16 to 128 bytes), not only Hash's 32.
func TestVerifyComparesTheWholeKey(t *testing.T) {
	salt := []byte("somesalt")
	for _, n := range []uint32{16, 32, 64, 128} {
		key := argon2.IDKey([]byte("pw"), salt, 1, 64, 1, n)
		stored := func(key []byte) string {
			return fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=1$%s$%s", b64.EncodeToString(salt), b64.EncodeToString(key))
		}
		ok, err := Verify(stored(key), "pw")
		require.NoError(t, err, n)
		assert.True(t, ok, "a %d-byte key", n)
		for _, at := range []uint32{0, n / 2, n - 1} {
			tampered := bytes.Clone(key)
			tampered[at] ^= 1
			ok, err := Verify(stored(tampered), "pw")
			require.NoError(t, err)
			assert.False(t, ok, "a %d-byte key differing in byte %d", n, at)
		}
	}
}

// Hash writes a 16-byte salt and a 32-byte key.
func TestHashSaltAndKeyLengths(t *testing.T) {
	h, err := Hash("pw", cheap)
	require.NoError(t, err)
	_, salt, key, err := parseArgon2id(h)
	require.NoError(t, err)
	assert.Len(t, salt, 16)
	assert.Len(t, key, 32)
}

// maxBcryptCost at its edge: cost 16, seconds of work, is read; 17 is
// refused. Check computes nothing, so neither is hashed here.
func TestCheckBcryptCostBound(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	assert.NoError(t, Check(strings.Replace(string(b), "$04$", "$16$", 1)))
	assert.ErrorIs(t, Check(strings.Replace(string(b), "$04$", "$17$", 1)), ErrUnknownFormat)
}

// Every character after the cost is in bcrypt's alphabet, the hash's
// last one included, not only the salt's.
func TestCheckBcryptAlphabetToTheLastCharacter(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	require.NoError(t, Check(string(b)))
	for _, c := range []string{"!", "+", "=", "-"} {
		bad := string(b[:len(b)-1]) + c
		assert.ErrorIs(t, Check(bad), ErrUnknownFormat, bad)
		_, err := Verify(bad, "pw")
		assert.Error(t, err, bad)
	}
}

// A bcrypt hash made elsewhere verifies its own secret, in each of the
// versions read, and no other.
func TestVerifyBcrypt(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	for _, version := range []string{"$2a$", "$2b$", "$2y$"} {
		h := version + string(b[4:])
		ok, err := Verify(h, "pw")
		require.NoError(t, err, h)
		assert.True(t, ok, h)
		ok, err = Verify(h, "pW")
		require.NoError(t, err, h)
		assert.False(t, ok, h)
	}
}

// More of parseArgon2id's edges: the product of memory and passes just
// over maxWork; a sixth '$' field; salt and key that decode in part
// before an error, or with non-zero unused bits; fields that are empty,
// have a leading zero, or hold ':' (the character after '9').
func TestParseArgon2idRefusesMore(t *testing.T) {
	const good = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	require.NoError(t, Check(good))
	longSalt := b64.EncodeToString(bytes.Repeat([]byte{7}, 16))
	// m·t = 838861·5 = maxWork+1, with m within maxMemory
	_, _, _, err := parseArgon2id(strings.Replace(good, "m=256,t=2", "m=838861,t=5", 1))
	assert.ErrorIs(t, err, ErrUnknownFormat, "m·t one over maxWork")
	for _, bad := range []string{
		good + "$",
		good + "$c29tZQ",
		strings.Replace(good, "c29tZXNhbHQ", longSalt+"!", 1),
		strings.Replace(good, "c29tZXNhbHQ", longSalt+"=", 1),
		good + "!",
		strings.Replace(good, "i/4", "i/5", 1), // non-zero unused bits in the key
		strings.Replace(good, "m=256", "m=", 1),
		strings.Replace(good, "v=19", "v=", 1),
		strings.Replace(good, "p=1", "p=01", 1),
		strings.Replace(good, "t=2", "t=02", 1),
		strings.Replace(good, "p=1", "p=:", 1),
		strings.Replace(good, "t=2", "t=1:", 1),
	} {
		assert.ErrorIs(t, Check(bad), ErrUnknownFormat, bad)
		_, err := Verify(bad, "password")
		assert.Error(t, err, bad)
	}
}

// Hash writes the parameters it was given, each of them, and Verify
// reads them back: a hash at other than the Default cost (more lanes,
// more passes) verifies its secret and no other.
func TestHashWritesItsParams(t *testing.T) {
	p := Params{Memory: 64, Time: 3, Threads: 2}
	h, err := Hash("pw", p)
	require.NoError(t, err)
	got, _, _, err := parseArgon2id(h)
	require.NoError(t, err)
	assert.Equal(t, p, got)
	ok, err := Verify(h, "pw")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = Verify(h, "pW")
	require.NoError(t, err)
	assert.False(t, ok)
}
