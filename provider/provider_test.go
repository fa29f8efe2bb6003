package provider_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewValidatesConfig(t *testing.T) {
	st := memory.New(memory.Config{})
	tests := []struct {
		name string
		cfg  provider.Config
	}{
		{name: "Clients is required", cfg: provider.Config{Tokens: st}},
		{name: "Tokens is required", cfg: provider.Config{Clients: st}},
		{name: "negative AccessTokenTTL", cfg: provider.Config{Clients: st, Tokens: st, AccessTokenTTL: -time.Second}},
		{name: "sub-second AccessTokenTTL", cfg: provider.Config{Clients: st, Tokens: st, AccessTokenTTL: time.Millisecond}},
		{name: "negative RefreshTokenTTL", cfg: provider.Config{Clients: st, Tokens: st, RefreshTokenTTL: -time.Hour}},
		{name: "negative MaxRequestBytes", cfg: provider.Config{Clients: st, Tokens: st, MaxRequestBytes: -1}},
		{name: "malformed scope", cfg: provider.Config{Clients: st, Tokens: st, Scopes: []string{"a b"}}},
		{name: "DefaultScopes outside Scopes", cfg: provider.Config{Clients: st, Tokens: st, Scopes: []string{"a"}, DefaultScopes: []string{"b"}}},
		{name: "invalid trusted proxy prefix", cfg: provider.Config{Clients: st, Tokens: st, TrustedProxies: []netip.Prefix{{}}}},
		// A nil pointer in an interface field is not a nil interface:
		// it would pass a nil check and panic at the first request.
		{name: "nil *memory.Store as Clients", cfg: provider.Config{Clients: (*memory.Store)(nil), Tokens: st}},
		{name: "nil *memory.Store as Tokens", cfg: provider.Config{Clients: st, Tokens: (*memory.Store)(nil)}},
		{name: "nil *authcheck.Static as Users", cfg: provider.Config{Clients: st, Tokens: st, Users: (*authcheck.Static)(nil)}},
		{name: "nil authcheck.Func as Users", cfg: provider.Config{Clients: st, Tokens: st, Users: authcheck.Func(nil)}},
		{name: "nil *memory.Limiter as Limiter", cfg: provider.Config{Clients: st, Tokens: st, Limiter: (*memory.Limiter)(nil)}},
	}
	// A Limiter that throttling does not use is not checked.
	_, err := provider.New(provider.Config{Clients: st, Tokens: st, Limiter: (*memory.Limiter)(nil), DisableThrottling: true})
	require.NoError(t, err)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := provider.New(tc.cfg)
			assert.Error(t, err)
			assert.Nil(t, p)
		})
	}
}

func TestNewAppliesDefaults(t *testing.T) {
	st := memory.New(memory.Config{})
	p, err := provider.New(provider.Config{Clients: st, Tokens: st})
	require.NoError(t, err)
	c := p.Config()
	assert.Equal(t, time.Hour, c.AccessTokenTTL)
	assert.Equal(t, 720*time.Hour, c.RefreshTokenTTL)
	assert.Equal(t, "oauth2provider", c.Realm)
	assert.Equal(t, p.Realm(), c.Realm)
	assert.Equal(t, int64(64<<10), c.MaxRequestBytes)
	assert.NotNil(t, c.Now)
	assert.False(t, c.AllowInsecureHTTP)
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{name: "RemoteAddr without trusted proxies", remote: "192.0.2.1:1234", xff: []string{"203.0.113.9"}, want: "192.0.2.1"},
		{name: "X-Forwarded-For from an untrusted address is ignored", trusted: trusted, remote: "192.0.2.1:1234", xff: []string{"203.0.113.9"}, want: "192.0.2.1"},
		{name: "trusted proxy: the right-most hop", trusted: trusted, remote: "10.0.0.1:1234", xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "trusted proxy: hops left of the first untrusted one are ignored", trusted: trusted, remote: "10.0.0.1:1234", xff: []string{"1.1.1.1, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "trusted proxy chain is skipped", trusted: trusted, remote: "10.0.0.1:1234", xff: []string{"1.1.1.1, 203.0.113.9, 10.0.0.7"}, want: "203.0.113.9"},
		{name: "several headers read as one list", trusted: trusted, remote: "10.0.0.1:1234", xff: []string{"1.1.1.1", "203.0.113.9, 10.0.0.7"}, want: "203.0.113.9"},
		{name: "garbage hop ends the walk at the last trusted address", trusted: trusted, remote: "10.0.0.1:1234", xff: []string{"203.0.113.9, junk, 10.0.0.7"}, want: "10.0.0.7"},
		{name: "empty hops are skipped, not the end of the walk", trusted: trusted, remote: "10.0.0.1:1234", xff: []string{"203.0.113.9, , 10.0.0.7,"}, want: "203.0.113.9"},
		{name: "all hops trusted gives the left-most", trusted: trusted, remote: "10.0.0.1:1234", xff: []string{"10.0.0.8, 10.0.0.7"}, want: "10.0.0.8"},
		{name: "no X-Forwarded-For from a trusted proxy gives the proxy", trusted: trusted, remote: "10.0.0.1:1234", want: "10.0.0.1"},
		{name: "IPv6 remote and hop", trusted: trusted, remote: "[fd00::1]:443", xff: []string{"2001:db8::5"}, want: "2001:db8::5"},
		{name: "4in6 is unmapped", remote: "[::ffff:192.0.2.1]:1", want: "192.0.2.1"},
		{name: "hop with a port", trusted: trusted, remote: "10.0.0.1:1234", xff: []string{"203.0.113.9:555"}, want: "203.0.113.9"},
		{name: "unparsable RemoteAddr", remote: "nonsense", want: "invalid IP"},
		{name: "IPv4-mapped trusted prefix", trusted: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}, remote: "10.0.0.1:1234", xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := memory.New(memory.Config{})
			p, err := provider.New(provider.Config{Clients: st, Tokens: st, TrustedProxies: tc.trusted})
			require.NoError(t, err)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, tc.want, p.ClientIP(r).String())
		})
	}
}

// A proxy on a link-local address reaches us as "[fe80::1%eth0]:port":
// the zone names our interface, not another network, so a zoned address
// inside a trusted prefix is a trusted proxy, as a remote peer and as a
// hop of X-Forwarded-For. Without it every client behind such a proxy
// shared its address (one throttling budget for all) and none was HTTPS.
func TestTrustedProxyWithAZone(t *testing.T) {
	st := memory.New(memory.Config{})
	p, err := provider.New(provider.Config{Clients: st, Tokens: st,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("fe80::/10"), netip.MustParsePrefix("fd00::/8")}})
	require.NoError(t, err)
	for _, tc := range []struct {
		remote, xff, want string
	}{
		{"[fe80::1%eth0]:1234", "203.0.113.9", "203.0.113.9"},
		{"[fd00::1]:1234", "203.0.113.9, fe80::7%eth1", "203.0.113.9"},
		{"[fe80::1%eth0]:1234", "", "fe80::1%eth0"},
	} {
		r := httptest.NewRequest(http.MethodGet, "http://app.example/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		r.Header.Set("X-Forwarded-Proto", "https")
		assert.Equal(t, tc.want, p.ClientIP(r).String(), "%s, X-Forwarded-For %q", tc.remote, tc.xff)
		assert.True(t, p.IsHTTPS(r), "%s is a trusted proxy", tc.remote)
	}
	// A zoned address outside the trusted prefixes is still no proxy.
	r := httptest.NewRequest(http.MethodGet, "http://app.example/", nil)
	r.RemoteAddr = "[fec0::1%eth0]:1234"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	r.Header.Set("X-Forwarded-Proto", "https")
	assert.Equal(t, "fec0::1%eth0", p.ClientIP(r).String())
	assert.False(t, p.IsHTTPS(r))
}

func TestValidateAccessToken(t *testing.T) {
	tests := []struct {
		name string
		// prepare returns the token to validate.
		prepare func(t *testing.T, e *env, at string) string
		wantErr error // nil: valid
		outage  bool
	}{
		{name: "valid token", prepare: func(t *testing.T, e *env, at string) string { return at }},
		{name: "malformed token", prepare: func(t *testing.T, e *env, at string) string { return corrupt(at) }, wantErr: provider.ErrInvalidToken},
		{name: "token with a trailing character", prepare: func(t *testing.T, e *env, at string) string { return at + "x" }, wantErr: provider.ErrInvalidToken},
		{name: "refresh token is no access token", prepare: func(t *testing.T, e *env, at string) string {
			return e.issue(t)["refresh_token"].(string)
		}, wantErr: provider.ErrInvalidToken},
		{name: "expired token", prepare: func(t *testing.T, e *env, at string) string { e.clock.Advance(time.Hour); return at }, wantErr: provider.ErrInvalidToken},
		{name: "revoked grant", prepare: func(t *testing.T, e *env, at string) string {
			ti, err := e.validate(at)
			require.NoError(t, err)
			require.NoError(t, e.store.RevokeGrant(context.Background(), ti.Grant.ID))
			return at
		}, wantErr: provider.ErrInvalidToken},
		{name: "client disabled after issuing", prepare: func(t *testing.T, e *env, at string) string {
			_, err := e.p.DisableClient(context.Background(), "conf")
			require.NoError(t, err)
			c, err := e.store.GetClient(context.Background(), "conf")
			require.NoError(t, err)
			require.True(t, c.Disabled)
			return at
		}, wantErr: provider.ErrInvalidToken},
		{name: "store outage is not ErrInvalidToken", prepare: func(t *testing.T, e *env, at string) string {
			e.store.setFail(errors.New("redis: connection pool timeout"))
			return at
		}, outage: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			at := e.issue(t)["access_token"].(string)
			ti, err := e.validate(tc.prepare(t, e, at))
			switch {
			case tc.outage:
				require.Error(t, err)
				assert.NotErrorIs(t, err, provider.ErrInvalidToken)
				assert.NotContains(t, err.Error(), at)
			case tc.wantErr != nil:
				assert.ErrorIs(t, err, tc.wantErr)
				assert.Nil(t, ti)
			default:
				require.NoError(t, err)
				assert.Equal(t, storage.KindAccess, ti.Token.Kind)
			}
		})
	}
}

func TestMalformedAccessTokenNeedsNoStoreLookup(t *testing.T) {
	e := newEnv(t, nil)
	for _, at := range []string{"", "x", "oat_" + "AAAAAAAAAAAAAAAAAAAAAA" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" + "AAAAAA"} {
		_, err := e.validate(at)
		assert.ErrorIs(t, err, provider.ErrInvalidToken)
		var dst storage.TokenInfo
		r := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
		assert.ErrorIs(t, e.p.ValidateAccessTokenInto(r, at, &dst), provider.ErrInvalidToken, "ValidateAccessTokenInto")
	}
	assert.Equal(t, int64(0), e.store.calls.Load())
}

func TestErrorType(t *testing.T) {
	e := &provider.Error{Code: provider.CodeInvalidGrant, Description: "bad"}
	assert.Equal(t, "oauth2: invalid_grant: bad", e.Error())
	var target *provider.Error
	assert.True(t, errors.As(error(e), &target))

	w := httptest.NewRecorder()
	provider.WriteError(w, e)
	assert.Equal(t, 400, w.Code, "zero Status means 400")
	assertNoStore(t, w)
	assert.JSONEq(t, `{"error":"invalid_grant","error_description":"bad"}`, w.Body.String())

	w = httptest.NewRecorder()
	provider.WriteError(w, errors.New("secret internal detail"))
	assert.Equal(t, 503, w.Code)
	assert.NotContains(t, w.Body.String(), "secret internal detail")
	assert.Equal(t, "temporarily_unavailable", body(t, w)["error"])
}

func TestTrustedProxiesWiderThanIPv4MappedAreRefused(t *testing.T) {
	st := memory.New(memory.Config{})
	mapped := []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}
	_, err := provider.New(provider.Config{Clients: st, Tokens: st, TrustedProxies: mapped})
	require.NoError(t, err)
	assert.Equal(t, "::ffff:10.0.0.0/104", mapped[0].String(), "the caller's slice is not normalized in place")
	_, err = provider.New(provider.Config{Clients: st, Tokens: st, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("::ffff:0:0/95")}})
	assert.ErrorContains(t, err, "wider than the IPv4-mapped addresses")
}

// Behind a reverse proxy on a Unix socket the peer has no address:
// TrustUnixSocketProxy believes its X-Forwarded-For and X-Forwarded-Proto.
// Without it the client is the unknown address and no request is HTTPS.
func TestTrustUnixSocketProxy(t *testing.T) {
	for _, trust := range []bool{true, false} {
		st := memory.New(memory.Config{})
		p, err := provider.New(provider.Config{Clients: st, Tokens: st, TrustUnixSocketProxy: trust})
		require.NoError(t, err)
		sock := filepath.Join(t.TempDir(), "app.sock")
		ln, err := net.Listen("unix", sock)
		require.NoError(t, err)
		srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %v", p.ClientIP(r), p.IsHTTPS(r))
		})}
		go func() { _ = srv.Serve(ln) }()
		client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
		req, err := http.NewRequest(http.MethodGet, "http://app/", nil)
		require.NoError(t, err)
		req.Header.Set("X-Forwarded-For", "198.51.100.7")
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, err := client.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		_ = resp.Body.Close()
		want := "invalid IP false"
		if trust {
			want = "198.51.100.7 true"
		}
		assert.Equal(t, want, string(body), "TrustUnixSocketProxy=%v", trust)
		_ = srv.Close()
	}
}

// WriteError writes an *Error's fields and nothing else: error_uri when
// set, no error_description when empty, and Retry-After on a 503 alone.
func TestWriteErrorIsExactlyTheErrorsFields(t *testing.T) {
	tests := []struct {
		name       string
		err        *provider.Error
		status     int
		body       string
		retryAfter string
	}{
		{name: "RFC 6749 §5.2: error_uri when set", err: &provider.Error{Code: provider.CodeInvalidScope, Description: "d", URI: "https://docs.example.com/scopes"},
			status: 400, body: `{"error":"invalid_scope","error_description":"d","error_uri":"https://docs.example.com/scopes"}`},
		{name: "RFC 6749 §5.2: error_description left out when empty", err: &provider.Error{Code: provider.CodeInvalidRequest},
			status: 400, body: `{"error":"invalid_request"}`},
		{name: "a 500 has no Retry-After", err: &provider.Error{Code: "server_error", Status: http.StatusInternalServerError},
			status: 500, body: `{"error":"server_error"}`},
		{name: "a 503 has Retry-After", err: &provider.Error{Code: provider.CodeTemporarilyUnavailable, Status: http.StatusServiceUnavailable},
			status: 503, body: `{"error":"temporarily_unavailable"}`, retryAfter: "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			provider.WriteError(w, tc.err)
			assert.Equal(t, tc.status, w.Code)
			assertNoStore(t, w)
			assert.Equal(t, tc.body+"\n", w.Body.String())
			assert.Equal(t, tc.retryAfter, w.Header().Get("Retry-After"))
			assert.Empty(t, w.Header().Get("WWW-Authenticate"))
		})
	}
}
