package main

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/servetest"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
)

// The program's real wiring answers HTTP and stops with its context.
func TestServeStartsAndStops(t *testing.T) {
	u, err := url.Parse(storeurltest.Redis(t)) // its keys are deleted when t ends
	require.NoError(t, err)
	q := u.Query()
	prefix := q.Get("prefix")
	q.Del("prefix")
	u.RawQuery = q.Encode()
	servetest.StartsAndStops(t, func(ctx context.Context, addr string) error {
		return serve(ctx, addr, u.String(), prefix)
	})
}

// A redis:// URL to another machine is refused before anything is
// opened: the grants and the client secrets' hashes would cross the
// network in clear; rediss:// is the way.
func TestServeRefusesPlainRedisOffLoopback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := serve(ctx, "127.0.0.1:0", "redis://:s3cret@192.0.2.1:6379/0", "t:")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rediss://")
	assert.NotContains(t, err.Error(), "s3cret")
}
