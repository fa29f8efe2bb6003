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

// Off loopback an -issuer of plain http is refused before anything
// starts, with a message that names the flag and what it wants: this
// server then serves only what arrives through a TLS proxy, whose https
// URL is the issuer.
func TestServeRefusesAnHTTPIssuerOffLoopback(t *testing.T) {
	dbURL := storeurltest.Postgres(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	err := serve(ctx, dbURL, "0.0.0.0:0", "http://auth.example.com", time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-issuer http://auth.example.com: off loopback the issuer is the https URL")
}
