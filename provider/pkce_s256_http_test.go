package provider_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// An S256 code_challenge is exactly the unpadded base64url of 32 bytes
// (RFC 7636 §4.2): encoding/base64 skips line breaks and, unless strict,
// accepts nonzero padding bits, so 43 or 44 characters with a "\n" in
// them, or a last character other than the canonical one, decode to 32
// bytes that no S256 of a verifier ever spells; such a challenge is
// refused up front.
func TestAuthorizeS256ChallengeMustBeCanonical(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	for _, ch := range []string{
		testChallenge[:42] + "N", // 'M' with a padding bit set
		testChallenge[:42] + "P",
		testChallenge[:20] + "\n" + testChallenge[20:41] + "A", // 31 bytes, strictly
		testChallenge + "\n",
		"\r" + testChallenge,
		testChallenge[:20] + "\n" + testChallenge[20:],
		testChallenge + "A",
		testChallenge[:42],
	} {
		w := e.get(spaParams("code_challenge", ch), "user-1")
		q := assertRedirectError(t, w, "https://spa.example/cb", "invalid_request", "st-123")
		assert.Equal(t, "malformed code_challenge", q.Get("error_description"), "%q", ch)
	}
}
