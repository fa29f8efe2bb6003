package policy

import (
	"strings"
	"testing"
)

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  a-b_c~d+e/f==", "Bearer", "Bearer a b", "Basic x", "", "Bearer =", "Bearer a=b"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, h string, twice bool) {
		values := []string{h}
		if twice {
			values = append(values, h)
		}
		tok, cred := bearerToken(values)
		switch cred {
		case credBearer:
			if twice || !isB64Token(tok) || strings.ContainsAny(tok, " \t,\"") || !strings.HasSuffix(h, tok) {
				t.Fatalf("accepted %q from %q", tok, h)
			}
			if !strings.EqualFold(h[:6], "bearer") {
				t.Fatalf("accepted scheme of %q", h)
			}
		case credNone:
			if tok != "" || twice {
				t.Fatalf("credNone with %q (twice=%v)", tok, twice)
			}
			if s, _, _ := strings.Cut(h, " "); strings.EqualFold(s, "bearer") {
				t.Fatalf("bearer scheme %q counted as no credentials", h)
			}
		case credMalformed:
			if tok != "" {
				t.Fatalf("malformed returned %q", tok)
			}
		}
	})
}

func TestBearerTokenAllocatesNothing(t *testing.T) {
	values := []string{"Bearer oat_abcdefghijklmnopqrstuvwxyz0123456789"}
	if n := testing.AllocsPerRun(100, func() { bearerToken(values) }); n != 0 {
		t.Fatalf("bearerToken allocates %v times", n)
	}
}
