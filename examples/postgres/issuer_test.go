package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
)

// Off loopback serve refuses to start without an issuer clients can use.
// With none there is nothing to guess: "http://0.0.0.0:8081" is neither
// https nor an address clients can use, and the metadata document would
// send them there. An -issuer of plain http is refused before anything
// starts, with a message that names the flag and what it wants: this
// server then serves only what arrives through a TLS proxy, whose https
// URL is the issuer.
func TestServeRefusesOffLoopbackWithoutAnHTTPSIssuer(t *testing.T) {
	dbURL := storeurltest.Postgres(t)
	for _, tc := range []struct{ issuer, want string }{
		{"", "-issuer is required"},
		{"http://auth.example.com", "-issuer http://auth.example.com: off loopback the issuer is the https URL"},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		err := serve(ctx, dbURL, "0.0.0.0:0", tc.issuer, time.Minute)
		cancel()
		require.Error(t, err, tc.issuer)
		assert.Contains(t, err.Error(), tc.want)
	}
}
