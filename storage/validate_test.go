package storage_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/oauth2provider/oauth2provider/storage"
)

// A confidential client's SecretHash must be a stored form VerifySecret
// reads (anything else never verifies, and is often the secret itself),
// and a public client's, which is never verified, empty or readable too.
func TestClientValidate(t *testing.T) {
	secret, hash, err := storage.NewClientSecret()
	require.NoError(t, err)
	chosen, err := storage.HashSecret("demo-secret")
	require.NoError(t, err)
	bc, err := bcrypt.GenerateFromPassword([]byte("demo-secret"), bcrypt.MinCost)
	require.NoError(t, err)

	for _, stored := range []string{
		hash,
		"sha256$" + strings.ToUpper(strings.TrimPrefix(hash, "sha256$")),
		chosen,
		string(bc),
	} {
		c := &storage.Client{ID: "c", SecretHash: stored}
		assert.NoError(t, c.Validate(), "%q", stored)
	}
	assert.NoError(t, (&storage.Client{ID: "p", Public: true}).Validate(), "a public client without a hash")
	// A public client's hash is never verified; one set is readable.
	assert.NoError(t, (&storage.Client{ID: "p", Public: true, SecretHash: hash}).Validate())

	for _, tc := range []struct {
		name, stored string
		public       bool
	}{
		{"plain secret", "demo-secret-in-the-clear", false},
		{"swapped pair", secret, false},
		{"empty", "", false},
		{"hex without prefix", strings.TrimPrefix(hash, "sha256$"), false},
		{"short hex", hash[:len(hash)-1], false},
		{"not hex", "sha256$" + strings.Repeat("g", 64), false},
		{"unknown", "md5$0123456789abcdef", false},
		{"argon2id without key", chosen[:strings.LastIndex(chosen, "$")], false},
		{"bcrypt cost", "$2b$31$" + string(bc)[7:], false},
		{"public with plain secret", "demo-secret-in-the-clear", true},
	} {
		c := &storage.Client{ID: "c", SecretHash: tc.stored, Public: tc.public}
		err := c.Validate()
		require.ErrorIs(t, err, storage.ErrInvalidSecretHash, tc.name)
		if tc.stored != "" {
			assert.NotContains(t, err.Error(), tc.stored, "%s: the error shows the SecretHash", tc.name)
		}
	}
	// No part of a secret stored as is shows either.
	err = (&storage.Client{ID: "c", SecretHash: secret}).Validate()
	for i := 0; i+8 <= len(secret); i++ {
		assert.NotContains(t, err.Error(), secret[i:i+8])
	}

	assert.ErrorIs(t, (*storage.Client)(nil).Validate(), storage.ErrNoClientID)
	assert.ErrorIs(t, (&storage.Client{SecretHash: "plain"}).Validate(), storage.ErrNoClientID, "the ID is judged first")
}
