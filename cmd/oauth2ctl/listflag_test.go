package main

import (
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
