package passhash

import (
	"strings"
	"testing"

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

func FuzzParseArgon2id(f *testing.F) {
	h, _ := Hash("pw", cheap)
	f.Add(h)
	f.Add("$argon2id$v=19$m=1,t=1,p=1$$")
	f.Add("$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5")
	f.Fuzz(func(t *testing.T, stored string) {
		p, salt, key, err := parseArgon2id(stored)
		if err != nil {
			return
		}
		if p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > 64 || p.Threads == 0 || len(salt) < 8 || len(key) < 16 || len(key) > 128 {
			t.Fatalf("accepted out-of-range hash %q: %+v", stored, p)
		}
	})
}
