package provider_test

import (
	"strings"
	"testing"
)

// distinctScopes returns a scope parameter of about n bytes, every token
// of it distinct and well formed.
func distinctScopes(n int) string {
	const alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		for v := i; ; v /= len(alpha) {
			b.WriteByte(alpha[v%len(alpha)])
			if v < len(alpha) {
				break
			}
		}
		b.WriteByte(' ')
	}
	return b.String()
}

// A scope parameter of thousands of distinct tokens (an unauthenticated
// authorization request's query may hold Config.MaxRequestBytes, 64 KiB;
// TestAuthorizeRefusesOversizedQuery refuses a longer one) is refused as
// invalid_scope, back to the client; what refusing it costs is bounded by
// TestParseScopeBoundsMemory.
func TestManyDistinctScopesAreRefused(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	w := e.get(spaParams("scope", distinctScopes(60<<10)), "")
	assertRedirectError(t, w, "https://spa.example/cb", "invalid_scope", "st-123")
}
