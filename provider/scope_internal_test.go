package provider

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// manyScopes returns n distinct well-formed scope tokens, space-separated.
func manyScopes(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("s")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteByte(byte('a' + i%26))
		b.WriteString(strings.Repeat("y", i/26%50))
		b.WriteByte(' ')
	}
	return b.String()
}

// A scope parameter names at most maxRequestedScopes distinct scopes
// (duplicates do not count), and refusing a longer one costs a few KB,
// however long it is: an authorization request's query of 1 MiB of
// distinct scopes used to cost ~48 MB.
func TestParseScopeBoundsMemory(t *testing.T) {
	got, e := parseScope(manyScopes(maxRequestedScopes) + manyScopes(maxRequestedScopes))
	require.Nil(t, e, "duplicates do not count")
	assert.Len(t, got, maxRequestedScopes)

	_, e = parseScope(manyScopes(maxRequestedScopes + 1))
	require.NotNil(t, e)
	assert.Equal(t, CodeInvalidScope, e.Code)

	huge := manyScopes(40000) // ~1 MiB
	require.Greater(t, len(huge), 900<<10)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, e = parseScope(huge)
	runtime.ReadMemStats(&after)
	require.NotNil(t, e)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10), "bytes allocated refusing %d bytes of scopes", len(huge))
}
