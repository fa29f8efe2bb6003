package storage_test

import (
	"strings"
	"testing"

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
	assert.True(t, strings.HasPrefix(hash, "$argon2id$"))
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
