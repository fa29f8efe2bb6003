package scope

import (
	"regexp"
	"testing"
)

func TestValidToken(t *testing.T) {
	for s, want := range map[string]bool{
		"read": true, "a:b/c": true, "!#[]~": true, "x": true, "!": true, "~": true,
		"": false, "a b": false, `a"b`: false, `a\b`: false, "é": false, "a\x7f": false, "\t": false,
	} {
		if got := ValidToken(s); got != want {
			t.Errorf("ValidToken(%q) = %v, want %v", s, got, want)
		}
	}
}

// scopeToken is RFC 6749 §3.3's scope-token as a regular expression.
var scopeToken = regexp.MustCompile(`^[\x21\x23-\x5b\x5d-\x7e]+$`)

// FuzzValidToken holds ValidToken, which every parser of a scope
// parameter and its fuzz target rely on, to the ABNF.
func FuzzValidToken(f *testing.F) {
	for _, s := range []string{"", "x", "read", "a b", `a"b`, `a\b`, "é", "\x7f", "~!", "a\x00", "[]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidToken(s), scopeToken.MatchString(s); got != want {
			t.Fatalf("ValidToken(%q) = %v, want %v", s, got, want)
		}
	})
}
