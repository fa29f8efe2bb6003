package main

import (
	"strings"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A list flag takes commas and spaces alike ("--scopes 'read write'", the
// form a scope parameter has on the wire) and keeps each value once: a
// value given twice must not be stored twice.
func TestListFlagSplitsOnSpacesAndDropsRepeats(t *testing.T) {
	l := listFlag{vals: []string{"default"}}
	require.NoError(t, l.Set("read write"))
	require.NoError(t, l.Set("write, read,admin"))
	require.NoError(t, l.Set("admin"))
	assert.Equal(t, []string{"read", "write", "admin"}, l.vals)
	assert.Equal(t, "read,write,admin", l.String())
}

// A client ID is 1 to 128 printable ASCII characters without spaces: the
// bounds themselves included, nothing beyond them.
func TestValidIDBounds(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"", false},
		{"a", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"!~", true},
		{"a b", false},
		{"a\x7f", false},
		{"a\x1f", false},
		{"é", false},
	} {
		assert.Equal(t, tc.want, validID(tc.id), "%q", tc.id)
	}
}

// A scope-token is %x21 / %x23-5B / %x5D-7E (RFC 6749 §3.3): the bounds
// are in, the quote, the backslash, a space and DEL are out.
func TestValidScopeBounds(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"", false},
		{"!", true},
		{"~", true},
		{"#[]", true},
		{" ", false},
		{`"`, false},
		{`\`, false},
		{"\x7f", false},
		{"é", false},
	} {
		assert.Equal(t, tc.want, validScope(tc.s), "%q", tc.s)
	}
}

// shown leaves printable text as it is and quotes anything a terminal
// would act on or that would shift a column: a space, a control
// character, invalid UTF-8.
func TestShownQuotesSpacesAndInvalidUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"app":       "app",
		"café":      "café",
		"a b":       `"a b"`,
		"a\u00a0b":  `"a\u00a0b"`,
		"a\tb":      `"a\tb"`,
		"a\xffb":    `"a\xffb"`,
		"a\u200bb":  `"a\u200bb"`,
		"\x1b[2K\r": `"\x1b[2K\r"`,
	} {
		assert.Equal(t, want, shown(in), "%q", in)
	}
}
