package main

import (
	"context"
	"net/url"
	"testing"

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
