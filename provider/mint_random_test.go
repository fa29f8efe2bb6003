package provider_test

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretPart is the 43 characters of a token that carry its 256 random
// bits: after the 4-character type prefix and the 22-character grant ID.
func secretPart(tok string) string { return tok[4+22 : 4+22+43] }

// TestTokensOfOnePairHaveTheirOwnRandomBits: the access and refresh token
// issued together, by a grant and by a refresh, each carry their own 256
// random bits, so that holding one (an access token sent to every API)
// gives nothing of the other.
func TestTokensOfOnePairHaveTheirOwnRandomBits(t *testing.T) {
	e := newEnv(t, nil)
	m := e.issue(t)
	at, rt := m["access_token"].(string), m["refresh_token"].(string)
	assert.NotEqual(t, secretPart(at), secretPart(rt), "password grant")

	m = assertToken(t, e.do(req{form: refresh(rt), basic: conf}))
	at2, rt2 := m["access_token"].(string), m["refresh_token"].(string)
	assert.NotEqual(t, secretPart(at2), secretPart(rt2), "refresh")
	for _, old := range []string{at, rt} {
		assert.NotEqual(t, secretPart(old), secretPart(at2))
		assert.NotEqual(t, secretPart(old), secretPart(rt2))
	}
}

// The grant ID, which every token of the grant shows in the clear, has
// random bits of its own: none of them is any of a token's 256 secret
// ones, so that a token (or the grant ID a log or an introspection
// response shows) gives nothing of another token's secret.
func TestGrantIDSharesNoBitsWithTheTokens(t *testing.T) {
	e := newEnv(t, nil)
	m := e.issue(t)
	at, rt := m["access_token"].(string), m["refresh_token"].(string)
	gid, err := base64.RawURLEncoding.DecodeString(at[4 : 4+22])
	require.NoError(t, err)
	require.Len(t, gid, 16)
	for _, tok := range []string{at, rt} {
		secret, err := base64.RawURLEncoding.DecodeString(secretPart(tok))
		require.NoError(t, err)
		require.Len(t, secret, 32)
		for i := 0; i+8 <= len(gid); i += 4 {
			assert.False(t, bytes.Contains(secret, gid[i:i+8]), "grant ID bytes %d-%d are in the secret of %s", i, i+8, tok[:4])
		}
	}
}
