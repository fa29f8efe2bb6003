package redis

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decScopes splits plain scope lists itself and hands the rest to
// encoding/json; either way it returns what json.Unmarshal would, and
// keeps nil (stored "") apart from empty.
func TestDecScopes(t *testing.T) {
	for _, v := range []string{
		`[]`, `[""]`, `["read"]`, `["read","write"]`, `["a b","c:d/e?f=g"]`,
		`["\u003cadmin\u003e"]`, `["caf\u00e9"]`, `["café"]`, `["a\"b"]`, `["a\\b"]`,
		`[ "read" ]`, `["read", "write"]`,
	} {
		var want []string
		require.NoError(t, json.Unmarshal([]byte(v), &want), v)
		got, err := decScopes(v)
		require.NoError(t, err, v)
		assert.Equal(t, want, got, v)
		assert.NotNil(t, got, v)
	}
	for _, v := range []string{`[`, `]`, `["read"`, `["read",]`, `["read" "write"]`, `[read]`, `{}`, `"read"`, `["a"]x`, `[,]`, "[\"a\tb\"]"} {
		_, err := decScopes(v)
		assert.Error(t, err, v)
	}
	got, err := decScopes("")
	require.NoError(t, err)
	assert.Nil(t, got)

	// A plain list costs its slice alone (encoding/json takes several).
	allocs := testing.AllocsPerRun(100, func() { _, _ = decScopes(`["read","write"]`) })
	assert.LessOrEqual(t, allocs, 1.0)
}

// Round trip through encScopes, including the escapes json.Marshal makes:
// scopes come back exactly as they were, or encScopes refuses them, only
// when one is not valid UTF-8 (which encoding/json would change).
func FuzzScopes(f *testing.F) {
	f.Add("read", "write")
	f.Add("<a>", "é")
	f.Add("", "\x00")
	f.Add("caf\xe9", "ok")
	f.Fuzz(func(t *testing.T, a, b string) {
		enc, err := encScopes([]string{a, b})
		if err != nil {
			require.ErrorIs(t, err, errNotUTF8)
			require.False(t, utf8.ValidString(a) && utf8.ValidString(b), "refused valid UTF-8")
			return
		}
		var want []string
		require.NoError(t, json.Unmarshal([]byte(enc), &want))
		got, err := decScopes(enc)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.Equal(t, []string{a, b}, got, "exactly as written")
	})
}
