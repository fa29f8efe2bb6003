package bench_test

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCallgrindScriptLeavesAnotherServerAlone runs redis-callgrind.sh
// with its port taken by a Redis server it did not start: the script
// must refuse to run, and must neither benchmark against that server
// nor shut it down.
func TestCallgrindScriptLeavesAnotherServerAlone(t *testing.T) {
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("needs redis-server")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	require.NoError(t, ln.Close())
	other := exec.Command(server, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	require.NoError(t, other.Start())
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + port})
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	require.Eventually(t, func() bool { return c.Ping(ctx).Err() == nil }, 10*time.Second, 50*time.Millisecond)
	require.NoError(t, c.Set(ctx, "someone-elses", "data", 0).Err())

	script := exec.Command("bash", "redis-callgrind.sh", "ExchangeToken/Single/ExchangeToken", "1")
	script.Env = append(script.Environ(), "CALLGRIND_REDIS_PORT="+port)
	out, err := script.CombinedOutput()
	assert.Error(t, err, "the script refuses a port in use: %s", out)

	time.Sleep(2 * time.Second) // the script's exit trap waits as long
	v, err := c.Get(ctx, "someone-elses").Result()
	require.NoError(t, err, "the other server still answers")
	assert.Equal(t, "data", v)
}
