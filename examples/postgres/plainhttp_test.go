package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/servetest"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
)

// Off loopback the server must not opt in to plain HTTP: a password grant
// over http:// on an address other hosts reach would send the password
// and the client secret, and answer with tokens, in clear. Such requests
// are refused as not over TLS (400), before the client is even looked up
// (which would be 401 for this unknown one).
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	dbURL := storeurltest.Postgres(t)
	base := servetest.StartOn(t, "0.0.0.0", func(ctx context.Context, addr string) error {
		return serve(ctx, dbURL, addr, "https://auth.example.com", time.Minute)
	})
	grant := url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}}
	resp, err := http.PostForm(base+"/oauth2/token", grant)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "plain-HTTP password grant on 0.0.0.0")

	req, err := http.NewRequest(http.MethodGet, base+"/api/me", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer not-a-token")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "plain-HTTP bearer request on 0.0.0.0")
}
