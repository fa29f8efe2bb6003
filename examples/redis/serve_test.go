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

// tls=disable, the opt-out the store URLs of oauth2ctl and the quickstart
// take (docs/storage.md), is taken here too: it used to be refused as a
// URL that "cannot parse (percent-encode any / ? # @ : in the password)".
func TestServeTakesTLSDisable(t *testing.T) {
	u, err := url.Parse(storeurltest.Redis(t))
	require.NoError(t, err)
	q := u.Query()
	prefix := q.Get("prefix")
	q.Del("prefix")
	q.Set("tls", "disable")
	u.RawQuery = q.Encode()
	servetest.StartsAndStops(t, func(ctx context.Context, addr string) error {
		return serve(ctx, addr, u.String(), prefix)
	})
}

// The refusal of a redis:// URL off loopback names both ways out.
func TestServeRefusalNamesTheOptOut(t *testing.T) {
	err := serve(context.Background(), "127.0.0.1:0", "redis://192.0.2.1:6379/0", "t:")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tls=disable")
}

// A URL go-redis refuses for a reason other than its syntax says that
// reason (without the password), not a hint about percent-encoding.
func TestServeSaysWhyTheURLIsBad(t *testing.T) {
	err := serve(context.Background(), "127.0.0.1:0", "redis://:s3cret@127.0.0.1:6379/abc", "t:")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "database number")
	assert.NotContains(t, err.Error(), "percent-encode")
	assert.NotContains(t, err.Error(), "s3cret")
}

// A store URL's prefix= (oauth2ctl's and the quickstart's key prefix,
// docs/storage.md) is refused with the flag that sets the prefix here,
// not only go-redis's "unexpected option": the store URLs take it, so a
// URL copied from an oauth2ctl command line carries it.
func TestServeNamesThePrefixFlagForAStoreURLsPrefix(t *testing.T) {
	for _, param := range []string{"prefix", "limiter_prefix"} {
		err := serve(context.Background(), "127.0.0.1:0", "redis://:s3cret@127.0.0.1:6379/0?"+param+"=app:", "t:")
		require.Error(t, err, param)
		assert.Contains(t, err.Error(), "-prefix", param)
		assert.NotContains(t, err.Error(), "s3cret", param)
	}
}
