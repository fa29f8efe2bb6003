package provider_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
