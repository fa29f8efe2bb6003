package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
)

// Off loopback there is no issuer to guess: "http://0.0.0.0:8081" is
// neither https nor an address clients can use, and the metadata document
// would send them there. serve refuses to start without -issuer.
func TestServeRequiresAnIssuerOffLoopback(t *testing.T) {
	dbURL := storeurltest.Postgres(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	err := serve(ctx, dbURL, "0.0.0.0:0", "", time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-issuer")
}
