package scope

import "testing"

func TestValidToken(t *testing.T) {
	for s, want := range map[string]bool{
		"read": true, "a:b/c": true, "!#[]~": true,
		"": false, "a b": false, `a"b`: false, `a\b`: false, "é": false, "a\x7f": false, "\t": false,
	} {
		if got := ValidToken(s); got != want {
			t.Errorf("ValidToken(%q) = %v, want %v", s, got, want)
		}
	}
}
