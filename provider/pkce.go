package provider

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// PKCE code challenge methods (RFC 7636 §4.2).
const (
	// PKCEMethodS256 is code_challenge = BASE64URL(SHA256(code_verifier)).
	PKCEMethodS256 = "S256"
	// PKCEMethodPlain is code_challenge = code_verifier. It protects
	// nothing against an attacker who can read the authorization request
	// and is refused unless AuthorizeConfig.AllowPlainPKCE is set.
	PKCEMethodPlain = "plain"
)

// validPKCEString reports whether s is a code_verifier or plain
// code_challenge of RFC 7636 §4.1: 43 to 128 characters of
// [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
func validPKCEString(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// validS256Challenge reports whether s can be an S256 code_challenge: the
// unpadded base64url of 32 bytes (43 characters). The decoded length is
// checked too: encoding/base64 skips line breaks, so 43 characters some
// of which are "\r" or "\n" decode without error to fewer bytes.
func validS256Challenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	var sum [sha256.Size + 1]byte // room for one byte more: decoding never overflows
	n, err := base64.RawURLEncoding.Strict().Decode(sum[:], []byte(s))
	return err == nil && n == sha256.Size
}

// s256 returns the S256 code_challenge of verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// verifyPKCE reports, in constant time, whether verifier matches the
// challenge made with method (RFC 7636 §4.6). An unknown method never
// matches.
func verifyPKCE(method, challenge, verifier string) bool {
	var derived string
	switch method {
	case PKCEMethodS256:
		derived = s256(verifier)
	case PKCEMethodPlain:
		derived = verifier
	default:
		return false
	}
	return subtle.ConstantTimeCompare([]byte(derived), []byte(challenge)) == 1
}
