package provider

import (
	"encoding/base64"
	"regexp"
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
		// Exact strings: no percent-decoding, no IPv6 or IPv4 spelling
		// of the same loopback address, no case folding of the host.
		"https://app.example/c%62":             false,
		"https://app.example/%63b":             false,
		"http://127.0.0.1:5/c%62":              false,
		"http://[0:0:0:0:0:0:0:1]:5/cb?x=1":    false,
		"http://[::ffff:127.0.0.1]:5/cb":       false,
		"http://127.1:5/cb":                    false,
		"http://[::1%25lo]:5/cb?x=1":           false,
		"http://127.0.0.1:5/cb#x":              false,
		"http://127.0.0.1:5\\@evil.example/cb": false,
		"HTTPS://app.example/cb":               false,
		"https://APP.example/cb":               false,
	} {
		assert.Equal(t, want, matchRedirectURI(reg, uri), uri)
	}
}

// Any port is for loopback IP literals as RFC 8252 §7.3 writes them: a
// registered URI whose host has an IPv6 zone, or is an IPv4 address in
// brackets (which a browser refuses), matches itself only (mutation
// survivors: either check dropped from splitLoopback).
func TestMatchRedirectURIOddLoopbackRegistered(t *testing.T) {
	reg := []string{"http://[::1%25lo]:8080/cb", "http://[127.0.0.1]/cb"}
	for uri, want := range map[string]bool{
		"http://[::1%25lo]:8080/cb": true,
		"http://[::1%25lo]:9/cb":    false,
		"http://[::1%25lo]/cb":      false,
		"http://[127.0.0.1]/cb":     true,
		"http://[127.0.0.1]:9/cb":   false,
	} {
		assert.Equal(t, want, matchRedirectURI(reg, uri), uri)
	}
}

// pkceString is RFC 7636 §4.1's code_verifier (and plain challenge).
var pkceString = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// FuzzPKCE holds the PKCE checks to RFC 7636: a verifier is the ABNF of
// §4.1; an S256 challenge is exactly the unpadded base64url of 32 bytes,
// as strict decoding reads it, in the base64url alphabet alone (no line
// break, which encoding/base64 skips); the S256 challenge of any verifier
// is one, and verifyPKCE accepts exactly the challenge of its verifier.
func FuzzPKCE(f *testing.F) {
	v := strings.Repeat("a", 43)
	f.Add(v, s256(v), "S256")
	f.Add(v, v, "plain")
	f.Add(strings.Repeat("~", 128), strings.Repeat("A", 43), "s256")
	f.Add(strings.Repeat("-", 42), s256(v)[:42]+"B", "")
	f.Add(v+"\n", s256(v)[:20]+"\n"+s256(v)[20:42], "S256")
	f.Add(v, s256(v)+"A", "S256")          // 44 characters
	f.Add(v, s256(v)+s256(v)[:21], "S256") // 64 characters: the base64url of 48 bytes
	f.Fuzz(func(t *testing.T, verifier, challenge, method string) {
		if got, want := validPKCEString(verifier), pkceString.MatchString(verifier); got != want {
			t.Fatalf("validPKCEString(%q) = %v, want %v", verifier, got, want)
		}
		dec, err := base64.RawURLEncoding.Strict().DecodeString(challenge)
		want := len(challenge) == 43 && err == nil && len(dec) == 32 && !strings.ContainsAny(challenge, "\r\n")
		if got := validS256Challenge(challenge); got != want {
			t.Fatalf("validS256Challenge(%q) = %v, want %v", challenge, got, want)
		}
		c := s256(verifier)
		if !validS256Challenge(c) || !verifyPKCE(PKCEMethodS256, c, verifier) || !verifyPKCE(PKCEMethodPlain, verifier, verifier) {
			t.Fatalf("the challenge %q of %q is refused", c, verifier)
		}
		var ok bool
		switch method {
		case PKCEMethodS256:
			ok = challenge == c
		case PKCEMethodPlain:
			ok = challenge == verifier
		}
		if got := verifyPKCE(method, challenge, verifier); got != ok {
			t.Fatalf("verifyPKCE(%q, %q, %q) = %v, want %v", method, challenge, verifier, got, ok)
		}
	})
}
