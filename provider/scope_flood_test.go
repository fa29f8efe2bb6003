package provider_test

import (
	"net/http"
	"net/url"
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
// linear in its length: an unauthenticated authorization request (whose
// query only the server's 1 MiB header limit bounds) or a public client's
// refresh must not buy seconds of CPU with one request.
func TestManyDistinctScopesCostLinearTime(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	const budget = 2 * time.Second

	t.Run("authorization endpoint", func(t *testing.T) {
		start := time.Now()
		w := e.get(spaParams("scope", distinctScopes(256<<10)), "")
		took := time.Since(start)
		assertRedirectError(t, w, "https://spa.example/cb", "invalid_scope", "st-123")
		assert.Less(t, took, budget, "one request spent %v parsing its scope", took)
	})
	t.Run("token endpoint", func(t *testing.T) {
		m := assertToken(t, e.do(req{form: password("scope", "read"), basic: conf}))
		form := url.Values{"grant_type": {"refresh_token"}, "client_id": {"conf"}, "client_secret": {confSecret},
			"refresh_token": {m["refresh_token"].(string)}, "scope": {distinctScopes(60 << 10)}}
		start := time.Now()
		w := e.do(req{form: form})
		took := time.Since(start)
		assertError(t, w, http.StatusBadRequest, "invalid_scope")
		assert.Less(t, took, budget/8, "one request spent %v parsing its scope", took)
	})
}
