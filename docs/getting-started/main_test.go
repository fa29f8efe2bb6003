package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGuide follows docs/getting-started.md: get a token with curl's
// request, call /hello with it, revoke it.
func TestGuide(t *testing.T) {
	h, secret, err := newServer(t.Context())
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	post := func(path string, form url.Values) *http.Response {
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("my-app", secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return resp
	}
	hello := func(tok string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/hello", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	resp := post("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}})
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var tok map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	assert.Equal(t, "Bearer", tok["token_type"])
	assert.Equal(t, "read", tok["scope"], "DefaultScopes when the request names none")
	assert.Equal(t, "user-1", tok["user_id"])

	status, body := hello(tok["access_token"].(string))
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "hello, user-1 (scopes: read)\n", body)

	status, _ = hello("not-a-token")
	assert.Equal(t, http.StatusUnauthorized, status)

	rev := post("/oauth2/revoke", url.Values{"token": {tok["access_token"].(string)}})
	rev.Body.Close()
	require.Equal(t, http.StatusOK, rev.StatusCode)
	status, _ = hello(tok["access_token"].(string))
	assert.Equal(t, http.StatusUnauthorized, status, "revoked")
}
