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
