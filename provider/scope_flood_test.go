package provider_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

// A scope parameter of tens of thousands of distinct tokens costs time
// linear in its length: an unauthenticated authorization request, whose
// query only the server's 1 MiB header limit bounds, must not buy seconds
// of CPU. The token endpoint parses scopes with the same function. The
// budget is wide both ways, so that a slow CI machine under the race
// detector stays within it: a quadratic search for duplicates took 11 s
// on 256 KiB of scopes, the linear one takes about 25 ms.
func TestManyDistinctScopesCostLinearTime(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	start := time.Now()
	w := e.get(spaParams("scope", distinctScopes(256<<10)), "")
	took := time.Since(start)
	assertRedirectError(t, w, "https://spa.example/cb", "invalid_scope", "st-123")
	assert.Less(t, took, 2*time.Second, "one request spent %v parsing its scope", took)
}
