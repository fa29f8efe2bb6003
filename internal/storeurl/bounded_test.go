package storeurl

import (
	"context"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A redis+cluster URL whose node accepts connections and never answers
// must not hang Open either: the cluster client, too, ends its calls at
// the context's deadline, not at its own read timeout.
func TestOpenClusterIsBoundedOnASilentServer(t *testing.T) {
	addr := testenv.SilentServer(t)
	start := time.Now()
	_, err := Open(context.Background(), "redis+cluster://:s3cret@"+addr+"?read_timeout=10s", Options{Timeout: 300 * time.Millisecond})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 3*time.Second, "Open must give up within about the timeout")
	assert.NotContains(t, err.Error(), "s3cret", "no password in errors")
}
