package provider

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVerifyPKCE(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 Appendix B
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	assert.Equal(t, challenge, s256(verifier), "RFC 7636 Appendix B")
	assert.True(t, verifyPKCE(PKCEMethodS256, challenge, verifier))
	assert.False(t, verifyPKCE(PKCEMethodS256, challenge, verifier[:42]+"l"))
	assert.False(t, verifyPKCE(PKCEMethodS256, challenge, challenge), "the challenge is not the verifier")
	assert.True(t, verifyPKCE(PKCEMethodPlain, verifier, verifier))
	assert.False(t, verifyPKCE(PKCEMethodPlain, verifier, challenge))
	assert.False(t, verifyPKCE("S512", challenge, verifier), "unknown method never matches")
	assert.False(t, verifyPKCE("", "", ""), "no method never matches")
}

func TestValidPKCEString(t *testing.T) {
	for s, want := range map[string]bool{
		strings.Repeat("a", 42):            false,
		strings.Repeat("a", 43):            true,
		strings.Repeat("a", 128):           true,
		strings.Repeat("a", 129):           false,
		strings.Repeat("-._~", 11):         true,
		strings.Repeat("a", 42) + "+":      false,
		strings.Repeat("a", 42) + "=":      false,
		strings.Repeat("a", 42) + " ":      false,
		strings.Repeat("a", 42) + "\u00e9": false,
	} {
		assert.Equal(t, want, validPKCEString(s), "%q", s)
	}
}

func TestMatchRedirectURI(t *testing.T) {
	reg := []string{"https://app.example/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb?x=1", "http://localhost:3000/cb"}
	for uri, want := range map[string]bool{
		"https://app.example/cb":             true,
		"https://app.example/cb/":            false,
		"https://app.example:443/cb":         false,
		"http://app.example/cb":              false,
		"http://127.0.0.1/cb":                true,
		"http://127.0.0.1:1/cb":              true,
		"http://127.0.0.1:65535/cb":          true,
		"http://127.0.0.1:655350/cb":         false,
		"http://127.0.0.1:x/cb":              false,
		"http://127.0.0.1:/cb":               false,
		"http://127.0.0.2:80/cb":             false,
		"http://127.0.0.1:80/cb?":            false,
		"http://[::1]/cb?x=1":                true,
		"http://[::1]:9/cb?x=1":              true,
		"http://[::1]:9/cb":                  false,
		"http://[127.0.0.1]:9/cb":            false,
		"http://localhost:3000/cb":           true,
		"http://localhost:3001/cb":           false, // only IP literals get any port (RFC 8252 §8.3)
		"http://u@127.0.0.1:5/cb":            false,
		"HTTP://127.0.0.1:5/cb":              false, // exact: the scheme's case too
		"http://127.0.0.1:5@evil.example/cb": false,
	} {
		assert.Equal(t, want, matchRedirectURI(reg, uri), uri)
	}
}
