package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
)

// startOn starts the quickstart on the store URL, as `-store storeURL`
// would, and returns its test server and a function that stops it.
func startOn(t *testing.T, storeURL string) (*httptest.Server, func()) {
	t.Helper()
	a, err := newApp(context.Background(), options{
		addr: "127.0.0.1:0", store: storeURL, loopback: true,
		accessTTL: time.Hour, refreshTTL: 720 * time.Hour,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler())
	return srv, func() { srv.Close(); a.Close() }
}

// With -store postgres://… or redis://…, the fixtures are created once
// (the second start finds them) and tokens outlive the quickstart.
func TestStoreURLTokensSurviveARestart(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, storeURL string) {
		first, stop := startOn(t, storeURL)
		resp, tok := postForm(t, first, "/oauth2/token", "demo-client", "demo-secret", url.Values{
			"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}, "scope": {"read"},
		})
		require.Equal(t, http.StatusOK, resp.StatusCode, tok)
		access, _ := tok["access_token"].(string)
		refresh, _ := tok["refresh_token"].(string)
		require.NotEmpty(t, access)
		require.NotEmpty(t, refresh)
		stop()

		second, stop := startOn(t, storeURL) // migrations and fixtures again: idempotent
		defer stop()
		resp, me := getMe(t, second, access)
		require.Equal(t, http.StatusOK, resp.StatusCode, me)
		assert.Equal(t, "1", me["user_id"])
		assert.Equal(t, "demo-client", me["client_id"])

		resp, tok = postForm(t, second, "/oauth2/token", "demo-client", "demo-secret", url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {refresh},
		})
		assert.Equal(t, http.StatusOK, resp.StatusCode, tok)

		resp, _ = getMe(t, second, access+"x")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a wrong token is still refused")
	})
}

func TestStoreURLRefusesUnknownSchemes(t *testing.T) {
	_, err := newApp(context.Background(), options{addr: "127.0.0.1:0", store: "mysql://u:s3cret@h/db", loopback: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "want memory, postgres://… or redis://…")
	assert.NotContains(t, err.Error(), "s3cret")
}

// Off loopback the quickstart still starts (and warns), serving plain
// HTTP on which the token endpoint issues nothing: it has no issuer then,
// since the provider takes an http issuer only with AllowInsecureHTTP.
func TestOffLoopbackStartsAndRefusesPlainHTTP(t *testing.T) {
	a, err := newApp(context.Background(), options{
		addr: "192.0.2.1:8080", store: "memory", loopback: false,
		accessTTL: time.Hour, refreshTTL: 720 * time.Hour,
	})
	require.NoError(t, err)
	defer a.Close()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	resp, tok := postForm(t, srv, "/oauth2/token", "demo-client", "demo-secret", url.Values{
		"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}, "scope": {"read"},
	})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "invalid_request", tok["error"])
	assert.Equal(t, "HTTPS is required", tok["error_description"])
}
