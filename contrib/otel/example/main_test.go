package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMetricsAfterTokenGrant gets a token, calls the protected route
// with it, and scrapes /metrics.
func TestMetricsAfterTokenGrant(t *testing.T) {
	h, shutdown, err := newServer(context.Background(), prometheus.NewRegistry(), true)
	require.NoError(t, err)
	t.Cleanup(func() { _ = shutdown(context.Background()) })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	form := url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-client", "demo-secret")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	req, err = http.NewRequest(http.MethodGet, srv.URL+"/api/me", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = srv.Client().Get(srv.URL + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	metrics := string(body)

	for _, pattern := range []string{
		`(?m)^oauth2_tokens_issued_total\{[^}]*oauth2_grant_type="password"[^}]*\} 1$`,
		`(?m)^oauth2_security_events_total\{[^}]*oauth2_event="token_issued"[^}]*\} 1$`,
		`(?m)^oauth2_validation_duration_seconds_count\{[^}]*oauth2_outcome="pass"[^}]*\} 1$`,
		`(?m)^oauth2_request_duration_seconds_count\{[^}]*oauth2_endpoint="/oauth2/token"[^}]*\} 1$`,
		`(?m)^oauth2_refresh_reuse_detected_total\{[^}]*\} 0$`, // present before the first reuse
		`(?m)^oauth2_storage_duration_seconds_count\{[^}]*oauth2_storage_backend="memory"[^}]*oauth2_storage_operation="CreateGrant"[^}]*\} 1$`,
	} {
		assert.Regexp(t, regexp.MustCompile(pattern), metrics)
	}
	for _, secret := range []string{tok.AccessToken, tok.RefreshToken, "demo-secret", "foobar42", "johndoe"} {
		assert.NotContains(t, metrics, secret)
	}
}
