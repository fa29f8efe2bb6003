package storage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/passhash"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewClientSecret(t *testing.T) {
	secret, hash, err := storage.NewClientSecret()
	require.NoError(t, err)
	assert.Len(t, secret, 43, "256 bits, base64url")
	assert.True(t, strings.HasPrefix(hash, "sha256$"))
	assert.NotContains(t, hash, secret)
	assert.True(t, storage.VerifySecret(hash, secret))
	assert.False(t, storage.VerifySecret(hash, secret+"x"))

	other, _, _ := storage.NewClientSecret()
	assert.NotEqual(t, secret, other)
}

func TestHashSecretIsSlowHash(t *testing.T) {
	hash, err := storage.HashSecret("demo-secret")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$"), "argon2id at the OWASP cost, as passwords: %s", hash)
	assert.True(t, storage.VerifySecret(hash, "demo-secret"))
	assert.False(t, storage.VerifySecret(hash, "demo-secreT"))
}

func TestVerifySecretRefusesUnreadableForms(t *testing.T) {
	for _, stored := range []string{"", "demo-secret", "sha256$zz", "sha256$abcd", "md5$abc"} {
		assert.False(t, storage.VerifySecret(stored, "demo-secret"), stored)
		assert.False(t, storage.VerifySecret(stored, stored), stored)
	}
}

func TestClientVerifySecret(t *testing.T) {
	secret, hash, _ := storage.NewClientSecret()
	c := &storage.Client{ID: "c", SecretHash: hash}
	assert.True(t, c.VerifySecret(secret))
	c.Public = true
	assert.False(t, c.VerifySecret(secret), "a public client has no secret")
	assert.False(t, (&storage.Client{ID: "p"}).VerifySecret(""), "no hash never verifies")
}

func TestHashTokenString(t *testing.T) {
	h := storage.HashToken("abc")
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", h.String())
}

func TestKindString(t *testing.T) {
	assert.Equal(t, "access", storage.KindAccess.String())
	assert.Equal(t, "refresh", storage.KindRefresh.String())
	assert.Equal(t, "session", storage.KindSession.String())
	assert.Equal(t, "code", storage.KindCode.String())
	assert.Equal(t, "unknown", storage.TokenKind(0).String())
}

func TestVerifySecretReadsUpperCaseHex(t *testing.T) {
	secret, hash, err := storage.NewClientSecret()
	require.NoError(t, err)
	upper := "sha256$" + strings.ToUpper(strings.TrimPrefix(hash, "sha256$"))
	assert.True(t, storage.VerifySecret(upper, secret))
	assert.False(t, storage.VerifySecret(upper, secret+"x"))
}

// A check of a secret a person chose that waits for an argon2id slot
// gives up when its request's context ends: the client has gone, and
// hashing for it would only delay the checks queued behind it.
func TestVerifySecretContextGivesUpWhileWaitingForASlot(t *testing.T) {
	hash, err := storage.HashSecret("demo-secret")
	require.NoError(t, err)
	c := &storage.Client{ID: "c", SecretHash: hash}
	checks := map[string]func(ctx context.Context) (bool, error){
		"VerifySecretContext": func(ctx context.Context) (bool, error) {
			return storage.VerifySecretContext(ctx, hash, "demo-secret")
		},
		"Client.VerifySecretContext": func(ctx context.Context) (bool, error) {
			return c.VerifySecretContext(ctx, "demo-secret")
		},
	}
	for name, check := range checks {
		t.Run(name, func(t *testing.T) {
			release := passhash.HoldSlots() // every slot busy
			defer release()
			ctx, cancel := context.WithCancel(context.Background())
			type result struct {
				ok  bool
				err error
			}
			done := make(chan result, 1)
			go func() {
				ok, err := check(ctx)
				done <- result{ok, err}
			}()
			time.Sleep(20 * time.Millisecond) // let it wait for a slot
			cancel()
			select {
			case r := <-done:
				assert.ErrorIs(t, r.err, context.Canceled)
				assert.False(t, r.ok)
			case <-time.After(2 * time.Second):
				t.Fatal("still waiting for a slot after the context ended")
			}
		})
	}
}

func TestVerifySecretContext(t *testing.T) {
	chosen, err := storage.HashSecret("demo-secret")
	require.NoError(t, err)
	secret, generated, err := storage.NewClientSecret()
	require.NoError(t, err)
	ctx := context.Background()
	for _, tc := range []struct {
		stored, secret string
		want           bool
	}{
		{chosen, "demo-secret", true},
		{chosen, "demo-secreT", false},
		{generated, secret, true},
		{generated, secret + "x", false},
		{"", "", false},
		{"plain-text-secret", "plain-text-secret", false},
		{"sha256$zz", "x", false},
		{"$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA", "x", false},
		{"$2b$99$x", "x", false},
	} {
		ok, err := storage.VerifySecretContext(ctx, tc.stored, tc.secret)
		assert.NoError(t, err, "an unreadable form is no error: %q", tc.stored)
		assert.Equal(t, tc.want, ok, "%q", tc.stored)
		assert.Equal(t, storage.VerifySecret(tc.stored, tc.secret), ok, "as VerifySecret: %q", tc.stored)
	}

	// Once the context has ended, a secret a person chose is not
	// checked; a generated one needs no turn and is checked all the same.
	done, cancel := context.WithCancel(ctx)
	cancel()
	ok, err := storage.VerifySecretContext(done, chosen, "demo-secret")
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, ok)
	ok, err = storage.VerifySecretContext(done, generated, secret)
	assert.NoError(t, err)
	assert.True(t, ok)

	pub := &storage.Client{ID: "p", Public: true, SecretHash: chosen}
	ok, err = pub.VerifySecretContext(done, "demo-secret")
	assert.NoError(t, err, "a public client has no secret to wait for")
	assert.False(t, ok)
	ok, err = (&storage.Client{ID: "n"}).VerifySecretContext(ctx, "")
	assert.NoError(t, err)
	assert.False(t, ok, "no hash never verifies")
}

// The provider checks a generated secret on every token request: the
// context-aware check of one allocates nothing, as VerifySecret does.
func TestVerifySecretContextOfAGeneratedSecretDoesNotAllocate(t *testing.T) {
	secret, hash, err := storage.NewClientSecret()
	require.NoError(t, err)
	c := &storage.Client{ID: "c", SecretHash: hash}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	allocs := testing.AllocsPerRun(100, func() {
		if ok, err := c.VerifySecretContext(ctx, secret); !ok || err != nil {
			t.Fatal("no match")
		}
	})
	assert.Zero(t, allocs)
}

// Only a stored form that begins with "sha256$" is a generated secret's:
// an argon2id hash whose salt happens to end in "sha256" is a secret a
// person chose, throttled and never cached, whatever it holds.
func TestIsGeneratedSecretHashReadsThePrefixOnly(t *testing.T) {
	_, generated, err := storage.NewClientSecret()
	require.NoError(t, err)
	assert.True(t, storage.IsGeneratedSecretHash(generated))
	chosen := "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAsha256$" + strings.Repeat("A", 43)
	require.NoError(t, (&storage.Client{ID: "c", SecretHash: chosen}).Validate(), "a readable argon2id hash")
	assert.False(t, storage.IsGeneratedSecretHash(chosen))
	assert.False(t, storage.IsGeneratedSecretHash("x"+generated))
}

// A generated secret's stored form is compared over the whole secret
// sent, however long: one that differs from the right one only past its
// first 64 bytes is wrong.
func TestVerifySecretReadsALongSecretToItsEnd(t *testing.T) {
	long := strings.Repeat("s", 100)
	hash := storage.HashGeneratedSecret(long)
	assert.True(t, storage.VerifySecret(hash, long))
	assert.False(t, storage.VerifySecret(hash, long[:64]+strings.Repeat("x", 36)))
	assert.False(t, storage.VerifySecret(hash, long[:64]))
}
