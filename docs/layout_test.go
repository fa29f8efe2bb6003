package docs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeLayoutNamesEveryPiece: a reader learns of the framework
// adapters, the OpenTelemetry module and oauth2ctl from the README's
// layout table, so each directory of contrib/ and cmd/ must be named there.
func TestReadmeLayoutNamesEveryPiece(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	layout := string(readme)
	if i := strings.Index(layout, "## Layout"); i >= 0 {
		layout = layout[i:]
	}
	for _, parent := range []string{"contrib", "cmd"} {
		entries, err := os.ReadDir(filepath.Join(repoRoot, parent))
		require.NoError(t, err)
		require.NotEmpty(t, entries)
		for _, e := range entries {
			if e.IsDir() {
				assert.Contains(t, layout, "`"+parent+"/"+e.Name()+"`", "README.md's layout table does not name %s/%s", parent, e.Name())
			}
		}
	}
}

// TestGuidesIndexNamesEveryExample: docs/README.md's table of runnable
// examples is where a reader finds them, so each directory of examples/
// must have a row there.
func TestGuidesIndexNamesEveryExample(t *testing.T) {
	index, err := os.ReadFile("README.md")
	require.NoError(t, err)
	table := string(index)
	if i := strings.Index(table, "## Runnable examples"); i >= 0 {
		table = table[i:]
	}
	if i := strings.Index(table[1:], "\n## "); i >= 0 {
		table = table[:i+1]
	}
	entries, err := os.ReadDir(filepath.Join(repoRoot, "examples"))
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		if e.IsDir() {
			row := "| [`examples/" + e.Name() + "`](../examples/" + e.Name() + ") |"
			assert.True(t, strings.Contains(table, row), "docs/README.md's runnable examples have no row %s", row)
		}
	}
}
