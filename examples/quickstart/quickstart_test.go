package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestServer(t *testing.T, o options) *httptest.Server {
	t.Helper()
	if o.store == "" {
		o.store = "memory"
	}
	if o.accessTTL == 0 {
		o.accessTTL = time.Hour
		o.refreshTTL = 720 * time.Hour
	}
	o.addr = "127.0.0.1:0"
	o.loopback = true
	a, err := newApp(context.Background(), o)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func postForm(t *testing.T, srv *httptest.Server, path, user, pass string, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if buf.Len() > 0 {
		require.NoError(t, json.Unmarshal(buf.Bytes(), &body), buf.String())
	}
	return resp, body
}

func getMe(t *testing.T, srv *httptest.Server, access string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

// The README's curl session, step by step.
func TestQuickstartCurlSession(t *testing.T) {
	srv := newTestServer(t, options{})

	resp, tok := postForm(t, srv, "/oauth2/token", "demo-client", "demo-secret", url.Values{
		"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}, "scope": {"read"},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, tok)
	assert.Equal(t, "Bearer", tok["token_type"])
	assert.Equal(t, "read", tok["scope"])
	assert.Equal(t, "1", tok["user_id"])
	assert.EqualValues(t, 3600, tok["expires_in"])
	access, _ := tok["access_token"].(string)
	refresh, _ := tok["refresh_token"].(string)
	require.True(t, strings.HasPrefix(access, "oat_"))
	require.True(t, strings.HasPrefix(refresh, "ort_"))

	resp, me := getMe(t, srv, access)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, map[string]any{"user_id": "1", "client_id": "demo-client", "scope": "read", "auth": "bearer"}, me)

	resp, tok2 := postForm(t, srv, "/oauth2/token", "demo-client", "demo-secret", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refresh},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, tok2)
	assert.NotEqual(t, refresh, tok2["refresh_token"])

	// Replaying the consumed refresh token revokes the grant.
	resp, body := postForm(t, srv, "/oauth2/token", "demo-client", "demo-secret", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refresh},
	})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "invalid_grant", body["error"])
	resp, _ = getMe(t, srv, tok2["access_token"].(string))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the whole grant is revoked")

	resp, cc := postForm(t, srv, "/oauth2/token", "other-client", "other-secret", url.Values{"grant_type": {"client_credentials"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, cc)
	assert.Nil(t, cc["refresh_token"])
	assert.Nil(t, cc["user_id"])
}

func TestQuickstartRefusesWrongPassword(t *testing.T) {
	srv := newTestServer(t, options{})
	resp, body := postForm(t, srv, "/oauth2/token", "demo-client", "demo-secret", url.Values{
		"grant_type": {"password"}, "username": {"johndoe"}, "password": {"nope"},
	})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "invalid_grant", body["error"])
}

func TestQuickstartAccessTTLFlag(t *testing.T) {
	srv := newTestServer(t, options{accessTTL: 5 * time.Minute, refreshTTL: time.Hour})
	resp, tok := postForm(t, srv, "/oauth2/token", "demo-client", "demo-secret", url.Values{
		"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, tok)
	assert.EqualValues(t, 300, tok["expires_in"])
}

func TestQuickstartBadStore(t *testing.T) {
	_, err := newApp(context.Background(), options{store: "mysql://x", addr: "127.0.0.1:0"})
	assert.ErrorContains(t, err, "want memory")
}

func TestBannerNamesCredentials(t *testing.T) {
	var b bytes.Buffer
	printBanner(&b, "http://127.0.0.1:8080", options{store: "memory"})
	for _, want := range []string{"johndoe / foobar42", "demo-client / demo-secret", "curl -s -u demo-client:demo-secret"} {
		assert.Contains(t, b.String(), want)
	}
}

// The banner names the store as -store gave it: "memory" is not a URL to
// redact, and a URL's password is never printed.
func TestBannerNamesStore(t *testing.T) {
	var b bytes.Buffer
	printBanner(&b, "http://127.0.0.1:8080", options{store: "memory"})
	assert.Contains(t, b.String(), "(store: memory)")

	b.Reset()
	printBanner(&b, "http://127.0.0.1:8080", options{store: "postgres://u:s3cret@127.0.0.1/db"})
	assert.Contains(t, b.String(), "(store: postgres://u:xxxxx@127.0.0.1/db)")
	assert.NotContains(t, b.String(), "s3cret")
}

// With -addr 127.0.0.1:0 the issuer, and so every endpoint the metadata
// document advertises, names the port the system chose, as the banner
// does, not port 0.
func TestListenOnPortZeroNamesTheChosenPort(t *testing.T) {
	o := options{addr: "127.0.0.1:0", store: "memory", loopback: true, accessTTL: time.Hour, refreshTTL: 720 * time.Hour}
	ln, err := listen(&o)
	require.NoError(t, err)
	a, err := newApp(context.Background(), o)
	if err != nil {
		ln.Close()
		require.NoError(t, err)
	}
	t.Cleanup(a.Close)
	srv := httptest.NewUnstartedServer(a.Handler())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	resp, err := srv.Client().Get(srv.URL + "/.well-known/oauth-authorization-server")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var meta map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&meta))
	base := "http://" + ln.Addr().String()
	assert.Equal(t, base, meta["issuer"])
	assert.Equal(t, base+"/oauth2/token", meta["token_endpoint"])
	assert.Equal(t, base+"/oauth2/revoke", meta["revocation_endpoint"])
	assert.Equal(t, base+"/oauth2/introspect", meta["introspection_endpoint"])
}

// A stop is clean (no error, so exit status 0) even when a connection
// that never sent a request is still open when the grace period ends;
// the connection is closed.
func TestShutdownClosesIdleNewConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted := make(chan struct{})
	srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: 5 * time.Second,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				close(accepted) // the test opens one connection
			}
		}}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	<-accepted // the server holds it, as a new connection

	require.NoError(t, shutdown(srv, 100*time.Millisecond))
	assert.ErrorIs(t, <-served, http.ErrServerClosed)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(2*time.Second)))
	_, err = conn.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the connection is closed by the server")
}
