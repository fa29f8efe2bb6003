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

// A Redis URL's dial_timeout bounds each connection attempt, whatever
// Options.Timeout: Open takes the URL's value over the timeout's. Here
// the server accepts and never answers, so each attempt's TLS handshake
// lasts the dial timeout; with Options.Timeout as the dial timeout the
// first attempt would last until Open's own deadline.
func TestOpenRedisDialTimeoutFromTheURL(t *testing.T) {
	addr := testenv.SilentServer(t)
	for _, u := range []string{
		"rediss://:s3cret@" + addr + "/0?dial_timeout=50ms&max_retries=-1",
		"rediss+cluster://:s3cret@" + addr + "?dial_timeout=50ms&max_retries=-1",
	} {
		start := time.Now()
		_, err := Open(context.Background(), u, Options{Timeout: 20 * time.Second})
		require.Error(t, err, u)
		assert.Less(t, time.Since(start), 5*time.Second, "Open must give up after a few dial timeouts: %s", u)
		assert.NotContains(t, err.Error(), "s3cret", "no password in errors")
	}
}
