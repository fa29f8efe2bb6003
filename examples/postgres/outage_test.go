package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A database that accepts the connection but never answers (a hung
// server, a firewall that holds the SYN-ACK'd socket) makes serve and
// adduser fail with an error within seconds, instead of hanging with
// nothing printed until Ctrl-C.
func TestStartGivesUpOnASilentDatabase(t *testing.T) {
	addr := testenv.SilentServer(t)
	u := "postgres://app:s3cret@" + addr + "/app?sslmode=disable"
	for name, run := range map[string]func(context.Context) error{
		"serve": func(ctx context.Context) error {
			return serve(ctx, u, "127.0.0.1:0", "http://127.0.0.1:0", time.Minute)
		},
		"adduser": func(ctx context.Context) error {
			return addUser(ctx, u, "alice", strings.NewReader("pw\n"), io.Discard)
		},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		start := time.Now()
		err := run(ctx)
		cancel()
		require.Error(t, err, name)
		assert.Less(t, time.Since(start), 15*time.Second, "%s: %v", name, err)
		assert.NotContains(t, err.Error(), "s3cret", name)
	}
}
