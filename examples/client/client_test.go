package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// events records the provider's events.
type events struct {
	mu  sync.Mutex
	all []provider.Event
}

func (e *events) add(_ context.Context, ev provider.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

// count returns how many events of type t with grant type gt were seen
// (gt empty: any).
func (e *events) count(t provider.EventType, gt string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ev.Type == t && (gt == "" || ev.GrantType == gt) {
			n++
		}
	}
	return n
}

// newServer serves the quickstart's routes that the client uses: the
// token and revocation endpoints and GET /api/me behind the bearer policy.
func newServer(t *testing.T, accessTTL time.Duration) (*httptest.Server, *events) {
	t.Helper()
	ctx := context.Background()
	store := memory.New(memory.Config{})
	hash := storage.HashGeneratedSecret("demo-secret-with-enough-entropy-for-sha256")
	require.NoError(t, store.CreateClient(ctx, &storage.Client{
		ID:         "demo-client",
		SecretHash: hash,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken},
		Scopes:     []string{"read", "write"},
	}))
	var users authcheck.Static
	require.NoError(t, users.Add("johndoe", "foobar42", "1"))
	ev := &events{}
	p, err := provider.New(provider.Config{
		Clients:           store,
		Tokens:            store,
		Users:             &users,
		AccessTokenTTL:    accessTTL,
		Scopes:            []string{"read", "write"},
		AllowInsecureHTTP: true, // httptest serves plain HTTP on loopback
		Events:            ev.add,
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /oauth2/token", p.TokenHandler())
	mux.Handle("POST /oauth2/revoke", p.RevokeHandler())
	mux.Handle("GET /api/me", policy.Bearer(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := policy.IdentityFrom(r.Context())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"user_id":"` + id.UserID + `","client_id":"` + id.ClientID +
			`","scope":"` + strings.Join(id.Scopes, " ") + `","auth":"` + id.Method + `"}`))
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, ev
}

func testConfig(srv *httptest.Server) config {
	return config{
		Server:       srv.URL,
		ClientID:     "demo-client",
		ClientSecret: "demo-secret-with-enough-entropy-for-sha256",
		Username:     "johndoe",
		Password:     "foobar42",
		Scope:        "read write",
		Calls:        3,
	}
}

// TestRun runs the example program end to end. The access tokens live 5 s,
// less than the 10 s early-expiry margin of x/oauth2, so the client renews
// the token before every call: three calls, three rotations.
func TestRun(t *testing.T) {
	srv, ev := newServer(t, 5*time.Second)
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), testConfig(srv), &out))

	assert.Equal(t, 1, ev.count(provider.EventTokenIssued, storage.GrantPassword))
	assert.Equal(t, 3, ev.count(provider.EventTokenIssued, storage.GrantRefreshToken))
	assert.Equal(t, 1, ev.count(provider.EventGrantRevoked, ""), "logout revokes the grant")
	assert.Zero(t, ev.count(provider.EventRefreshReuse, ""), "a rotated refresh token is never presented twice")

	got := out.String()
	assert.Contains(t, got, "logged in as user 1\n")
	assert.Equal(t, 3, strings.Count(got, `GET /api/me: user_id=1 client_id=demo-client scope="read write" auth=bearer`))
	assert.Equal(t, 3, strings.Count(got, "refreshed: new access token"))
	assert.Contains(t, got, "logged out: the grant is revoked\n")
}

// TestTokenReusedUntilExpiry: with an hour-long access token the client
// calls the API with the same token and never refreshes.
func TestTokenReusedUntilExpiry(t *testing.T) {
	srv, ev := newServer(t, time.Hour)
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), testConfig(srv), &out))
	assert.Equal(t, 1, ev.count(provider.EventTokenIssued, ""))
	assert.NotContains(t, out.String(), "refreshed")
}

// TestLogoutEndsTokens: after logout neither the access token nor the
// refresh token works.
func TestLogoutEndsTokens(t *testing.T) {
	srv, _ := newServer(t, time.Hour)
	ctx := t.Context()
	conf := oauthConfig(srv.URL, "demo-client", "demo-secret-with-enough-entropy-for-sha256", []string{"read"})
	s, err := login(ctx, conf, srv.URL, "johndoe", "foobar42", nil)
	require.NoError(t, err)
	assert.Equal(t, "1", s.UserID())
	_, err = s.callMe(ctx)
	require.NoError(t, err)
	tok := s.src.current()

	require.NoError(t, s.logout(ctx))

	_, err = s.callMe(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	assert.Contains(t, err.Error(), "invalid_token")

	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute) // force a refresh
	_, err = conf.TokenSource(ctx, &expired).Token()
	require.Error(t, err)
	assert.ErrorContains(t, describe(err), "invalid_grant")
}

// TestLoginErrors: a wrong password or client secret is reported by its
// OAuth error code, and the password never appears in the error.
func TestLoginErrors(t *testing.T) {
	srv, _ := newServer(t, time.Hour)
	for _, tc := range []struct {
		name, secret, password, code string
	}{
		{"wrong password is invalid_grant (RFC 6749 §5.2)", "demo-secret-with-enough-entropy-for-sha256", "hunter2-wrong", "invalid_grant"},
		{"wrong client secret is invalid_client (RFC 6749 §5.2)", "hunter2-wrong", "foobar42", "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := oauthConfig(srv.URL, "demo-client", tc.secret, []string{"read"})
			_, err := login(t.Context(), conf, srv.URL, "johndoe", tc.password, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.code)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}

// TestRevokeReportsErrors: a revocation refused by the server is an error.
func TestRevokeReportsErrors(t *testing.T) {
	srv, _ := newServer(t, time.Hour)
	err := revoke(t.Context(), srv.URL+"/oauth2/revoke", "demo-client", "hunter2-wrong", "x", "refresh_token")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	assert.Contains(t, err.Error(), "invalid_client")
}

var _ oauth2.TokenSource = (*savingSource)(nil)

// The client sends a password and a client secret, so it refuses a server
// they would reach in clear over the network, before sending anything.
func TestRunRefusesPlainHTTPOffThisMachine(t *testing.T) {
	srv, _ := newServer(t, 5*time.Second)
	for server, want := range map[string]string{
		"http://192.0.2.10:8080": "plain http only to this machine",
		"http://auth.example":    "plain http only to this machine",
		"ftp://127.0.0.1":        "want an http(s) URL",
		"not a url":              "is not a URL",
	} {
		cfg := testConfig(srv)
		cfg.Server = server
		assert.ErrorContains(t, run(t.Context(), cfg, io.Discard), want, server)
	}
	for _, server := range []string{"https://auth.example", "http://127.0.0.1:8080", "http://[::1]:8080", "http://localhost:8080"} {
		assert.NoError(t, checkServer(server), server)
	}
}
