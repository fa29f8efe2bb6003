package provider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var bindingKey = []byte("binding-key-0123456789abcdefghijklmnopqrstuvwxyz")

// newBoundEnv is newEnv with binding on and 10.0.0.0/8 as trusted proxies.
func newBoundEnv(t testing.TB) *env {
	return newEnv(t, func(c *provider.Config) {
		c.BindingKey = bindingKey
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
}

// apiRequest is a request to a protected route from remoteAddr with the
// given User-Agent and X-Forwarded-For (empty: none).
func apiRequest(remoteAddr, ua, xff string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	r.RemoteAddr = remoteAddr
	r.Header.Set("User-Agent", ua)
	if xff != "" {
		r.Header.Set("X-Forwarded-For", xff)
	}
	return r
}

func TestBindingKeyConfig(t *testing.T) {
	st := newTestStore(newClock().Now)
	_, err := provider.New(provider.Config{Clients: st, Tokens: st, BindingKey: make([]byte, 31)})
	assert.ErrorContains(t, err, "BindingKey is shorter than 32 bytes")
	// An empty key (a key file or variable left empty) is no nil one: it
	// is refused, not taken for binding off.
	_, err = provider.New(provider.Config{Clients: st, Tokens: st, BindingKey: []byte{}})
	assert.ErrorContains(t, err, "BindingKey is shorter than 32 bytes")

	// The fingerprint expected of the all-zero key comes from another
	// provider: one made by p before the key changed would stay in p's
	// pool of keyed HMACs, which would hide a change of p's key.
	ref, err := provider.New(provider.Config{Clients: st, Tokens: st, BindingKey: make([]byte, 32)})
	require.NoError(t, err)
	want := ref.Fingerprint(apiRequest("192.0.2.1:1", "ua", ""))

	key := make([]byte, 32)
	p, err := provider.New(provider.Config{Clients: st, Tokens: st, BindingKey: key})
	require.NoError(t, err)
	key[0] = 1
	got := p.Config().BindingKey
	got[1] = 1
	assert.Equal(t, want, p.Fingerprint(apiRequest("192.0.2.1:1", "ua", "")),
		"the provider keeps its own copy of the key")
}

func TestFingerprint(t *testing.T) {
	e := newBoundEnv(t)
	base := e.p.Fingerprint(apiRequest("192.0.2.1:1111", "Firefox", ""))
	require.True(t, strings.HasPrefix(base, "b1."), base)
	assert.NotContains(t, base, "192.0.2.1")
	assert.NotContains(t, base, "Firefox")

	tests := []struct {
		name string
		r    *http.Request
		same bool
	}{
		{"another port of the same address is the same client", apiRequest("192.0.2.1:2222", "Firefox", ""), true},
		{"X-Forwarded-For from an untrusted peer is ignored", apiRequest("192.0.2.1:1111", "Firefox", "198.51.100.9"), true},
		{"another address differs", apiRequest("192.0.2.2:1111", "Firefox", ""), false},
		{"another User-Agent differs", apiRequest("192.0.2.1:1111", "Chrome", ""), false},
		{"a trusted proxy forwards the client's address", apiRequest("10.1.2.3:80", "Firefox", "192.0.2.1"), true},
		{"a trusted proxy forwarding another address differs", apiRequest("10.1.2.3:80", "Firefox", "192.0.2.7"), false},
		{"hops left of the first untrusted one are ignored", apiRequest("10.1.2.3:80", "Firefox", "203.0.113.5, 192.0.2.1"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.same, e.p.Fingerprint(tc.r) == base)
		})
	}

	off := newEnv(t, nil)
	assert.Empty(t, off.p.Fingerprint(apiRequest("192.0.2.1:1111", "Firefox", "")), "binding off")
	other := newEnv(t, func(c *provider.Config) { c.BindingKey = []byte(strings.Repeat("k", 32)) })
	assert.NotEqual(t, base, other.p.Fingerprint(apiRequest("192.0.2.1:1111", "Firefox", "")), "the key matters")
}

// issueFrom runs a password grant from remoteAddr with User-Agent ua.
func (e *env) issueFrom(t testing.TB, remoteAddr, ua string) map[string]any {
	t.Helper()
	return assertToken(t, e.do(req{form: password(), basic: conf, remoteAddr: remoteAddr,
		header: http.Header{"User-Agent": {ua}}}))
}

func TestBindingRules(t *testing.T) {
	tests := []struct {
		name    string
		request *http.Request
		valid   bool
	}{
		{"the same client IP and User-Agent pass", apiRequest("192.0.2.1:5555", "Firefox", ""), true},
		{"a spoofed X-Forwarded-For from an untrusted peer changes nothing", apiRequest("192.0.2.1:5555", "Firefox", "203.0.113.66"), true},
		{"another User-Agent is invalid_token and revokes the grant", apiRequest("192.0.2.1:5555", "curl/8", ""), false},
		{"another client IP is invalid_token and revokes the grant", apiRequest("198.51.100.1:5555", "Firefox", ""), false},
		{"a spoofed X-Forwarded-For cannot claim the bound IP", apiRequest("198.51.100.1:5555", "Firefox", "192.0.2.1"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newBoundEnv(t)
			tok := e.issueFrom(t, "192.0.2.1:4444", "Firefox")
			access := tok["access_token"].(string)

			ti, err := e.p.ValidateAccessToken(tc.request, access)
			if tc.valid {
				require.NoError(t, err)
				assert.NotEmpty(t, ti.Grant.Binding)
				return
			}
			require.ErrorIs(t, err, provider.ErrInvalidToken)
			_, err = e.p.ValidateAccessToken(apiRequest("192.0.2.1:5555", "Firefox", ""), access)
			assert.ErrorIs(t, err, provider.ErrInvalidToken, "the grant is revoked: the rightful client is refused too")
			w := e.do(req{form: with(password(), "grant_type", "refresh_token", "refresh_token", tok["refresh_token"].(string)),
				basic: conf, remoteAddr: "192.0.2.1:4444", header: http.Header{"User-Agent": {"Firefox"}}})
			assertError(t, w, http.StatusBadRequest, "invalid_grant")
		})
	}
}

func TestBindingRevocationFailureStillRefuses(t *testing.T) {
	e := newBoundEnv(t)
	access := e.issueFrom(t, "192.0.2.1:4444", "Firefox")["access_token"].(string)
	ti, err := e.p.ValidateAccessToken(apiRequest("192.0.2.1:1", "Firefox", ""), access)
	require.NoError(t, err)
	store := &revokeFails{TokenStore: e.store}
	p, err := provider.New(provider.Config{Clients: e.store, Tokens: store, BindingKey: bindingKey, Now: e.clock.Now})
	require.NoError(t, err)
	_, err = p.ValidateAccessToken(apiRequest("192.0.2.1:1", "curl/8", ""), access)
	assert.ErrorIs(t, err, provider.ErrInvalidToken, "a mismatch is refused even when the revocation fails")
	assert.ErrorIs(t, err, errUserDBDown, "the store's error is joined to it")
	assert.Equal(t, []string{ti.Grant.ID}, store.tried)
}

// revokeFails is a TokenStore whose RevokeGrant fails.
type revokeFails struct {
	storage.TokenStore
	tried []string
}

func (s *revokeFails) RevokeGrant(_ context.Context, id string) error {
	s.tried = append(s.tried, id)
	return errUserDBDown
}

func TestBindingOffIssuesUnboundGrants(t *testing.T) {
	e := newEnv(t, nil)
	access := e.issueFrom(t, "192.0.2.1:4444", "Firefox")["access_token"].(string)
	ti, err := e.p.ValidateAccessToken(apiRequest("198.51.100.1:1", "curl/8", ""), access)
	require.NoError(t, err)
	assert.Empty(t, ti.Grant.Binding)
}

// A grant bound while binding was on is not checked once it is off (a
// provider without BindingKey over the same store): its tokens work from
// anywhere, and nothing is revoked.
func TestBindingOffLeavesBoundGrantsUnchecked(t *testing.T) {
	e := newBoundEnv(t)
	tok := e.issueFrom(t, "192.0.2.1:4444", "Firefox")
	p, err := provider.New(provider.Config{Clients: e.store, Tokens: e.store, Now: e.clock.Now})
	require.NoError(t, err)
	ti, err := p.ValidateAccessToken(apiRequest("198.51.100.1:1", "curl/8", ""), tok["access_token"].(string))
	require.NoError(t, err)
	assert.NotEmpty(t, ti.Grant.Binding, "the grant is bound")
	w := httptest.NewRecorder()
	p.TokenHandler().ServeHTTP(w, req{form: refresh(tok["refresh_token"].(string)), basic: conf,
		remoteAddr: "198.51.100.1:1", header: http.Header{"User-Agent": {"curl/8"}}}.build())
	assertToken(t, w)
}

func TestBindingClientCredentialsGrantIsBoundToo(t *testing.T) {
	e := newBoundEnv(t)
	w := e.do(req{form: map[string][]string{"grant_type": {"client_credentials"}}, basic: conf,
		remoteAddr: "192.0.2.1:1", header: http.Header{"User-Agent": {"svc"}}})
	access := assertToken(t, w)["access_token"].(string)
	_, err := e.p.ValidateAccessToken(apiRequest("192.0.2.1:2", "svc", ""), access)
	require.NoError(t, err)
	_, err = e.p.ValidateAccessToken(apiRequest("192.0.2.9:2", "svc", ""), access)
	assert.ErrorIs(t, err, provider.ErrInvalidToken)
}

// A binding mismatch is a security event, whether the bound access token
// or the bound refresh token was presented from elsewhere; the refresh is
// invalid_grant, consumes nothing and ends the grant.
func TestBindingMismatchIsReportedAndEndsTheGrant(t *testing.T) {
	var events []provider.Event
	e := newEnv(t, func(c *provider.Config) {
		c.BindingKey = bindingKey
		c.Events = func(_ context.Context, ev provider.Event) {
			if ev.Type == provider.EventBindingMismatch {
				events = append(events, ev)
			}
		}
	})
	refreshFrom := func(rt, ua string) *httptest.ResponseRecorder {
		return e.do(req{form: with(password(), "grant_type", "refresh_token", "refresh_token", rt),
			basic: conf, remoteAddr: "192.0.2.1:4444", header: http.Header{"User-Agent": {ua}}})
	}

	// The access token from another User-Agent.
	tok := e.issueFrom(t, "192.0.2.1:4444", "Firefox")
	grantID := tok["access_token"].(string)[4:26] // oat_<grant ID>…: validating here would trip the binding
	_, err := e.p.ValidateAccessToken(apiRequest("192.0.2.1:5555", "curl/8", ""), tok["access_token"].(string))
	require.ErrorIs(t, err, provider.ErrInvalidToken)
	require.Len(t, events, 1)
	assert.Equal(t, provider.Event{Type: provider.EventBindingMismatch, Time: e.clock.Now(), ClientID: "conf",
		UserID: "user-1", GrantID: grantID, IP: netip.MustParseAddr("192.0.2.1"),
		Reason: "token presented from another client IP or User-Agent; grant revoked"}, events[0])

	// The refresh token from another User-Agent.
	events = nil
	tok = e.issueFrom(t, "192.0.2.1:4444", "Firefox")
	grantID = tok["access_token"].(string)[4:26]
	assertError(t, refreshFrom(tok["refresh_token"].(string), "curl/8"), http.StatusBadRequest, "invalid_grant")
	require.Len(t, events, 1)
	assert.Equal(t, grantID, events[0].GrantID)
	_, err = e.p.ValidateAccessToken(apiRequest("192.0.2.1:4444", "Firefox", ""), tok["access_token"].(string))
	assert.ErrorIs(t, err, provider.ErrInvalidToken, "the grant is revoked")
	assertError(t, refreshFrom(tok["refresh_token"].(string), "Firefox"), http.StatusBadRequest, "invalid_grant")

	// The refresh token from another User-Agent with a wrong user_id or
	// a scope the grant does not hold: the binding is judged first, so
	// the grant ends and the holder learns nothing from those errors.
	for _, extra := range [][]string{{"user_id", "nobody"}, {"scope", "not-granted"}} {
		events = nil
		tok = e.issueFrom(t, "192.0.2.1:4444", "Firefox")
		w := e.do(req{form: with(password(), "grant_type", "refresh_token", "refresh_token", tok["refresh_token"].(string), extra[0], extra[1]),
			basic: conf, remoteAddr: "192.0.2.1:4444", header: http.Header{"User-Agent": {"curl/8"}}})
		assertError(t, w, http.StatusBadRequest, "invalid_grant")
		assert.Contains(t, w.Body.String(), "invalid refresh token", extra)
		require.Len(t, events, 1, extra)
		_, err = e.p.ValidateAccessToken(apiRequest("192.0.2.1:4444", "Firefox", ""), tok["access_token"].(string))
		assert.ErrorIs(t, err, provider.ErrInvalidToken, "the grant is revoked (%v)", extra)
	}

	// The rightful client refreshes as before.
	tok = e.issueFrom(t, "192.0.2.1:4444", "Firefox")
	assertToken(t, refreshFrom(tok["refresh_token"].(string), "Firefox"))
}

// TestFingerprintIsStable pins fingerprints: grants bound by an earlier
// version are stored with them, and must keep matching.
func TestFingerprintIsStable(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.BindingKey = []byte(strings.Repeat("k", 32)) })
	for _, tc := range []struct{ remoteAddr, ua, want string }{
		{"192.0.2.1:1234", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "b1.Oz6gsxArmaTjai6hv0fN7hnd191ktW7Wl4tbAV4XsHY"},
		{"[2001:db8::1]:443", "", "b1.gGoJ-HpTe1iDRhR7HO7ILSL4UwtvI6BhItOcDSi0T38"},
		{"[::ffff:192.0.2.7]:80", "curl/8", "b1.h-G8wr1CdRRqp7NkLdiXjk25LQbF3J4aHhiUimG3A78"},
		{"garbage", "x", "b1.drXFm2T5YU6PRuSu8FXygRqFvX5PG5gmzNPfASuObHo"}, // no address: "invalid IP"
		{"192.0.2.1:1234", strings.Repeat("u", 600), "b1.345iRfxs6OtpW9KmZQ5-VqxnNCMsvoIvZ7VEuwYCsRE"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remoteAddr
		if tc.ua != "" {
			r.Header.Set("User-Agent", tc.ua)
		}
		for range 2 { // the second time with a recycled HMAC and buffer
			assert.Equal(t, tc.want, e.p.Fingerprint(r), "%s, User-Agent of %d bytes", tc.remoteAddr, len(tc.ua))
		}
	}
}

// TestFingerprintAllocations guards the cost of binding, paid on every
// validation of a bound token: the fingerprint string, nothing more.
func TestFingerprintAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	e := newBoundEnv(t)
	r := apiRequest("192.0.2.1:1111", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "")
	allocs := testing.AllocsPerRun(100, func() { e.p.Fingerprint(r) })
	assert.LessOrEqual(t, allocs, 1.0, "allocations per fingerprint")
}

// A binding mismatch whose revocation failed is reported as such: an
// event that says "grant revoked" would tell the operator that nothing
// remains to be done while the grant lives on.
func TestBindingMismatchEventTellsAFailedRevocation(t *testing.T) {
	var events []provider.Event
	var ft *flakyTokens
	e := newEnv(t, func(c *provider.Config) {
		c.BindingKey = bindingKey
		ft = &flakyTokens{TokenStore: c.Tokens}
		c.Tokens = ft
		c.Events = func(_ context.Context, ev provider.Event) {
			if ev.Type == provider.EventBindingMismatch {
				events = append(events, ev)
			}
		}
	})
	tok := e.issueFrom(t, "192.0.2.1:4444", "Firefox")
	ft.revokeErr = errors.New("connection refused")
	_, err := e.p.ValidateAccessToken(apiRequest("192.0.2.1:5555", "curl/8", ""), tok["access_token"].(string))
	require.ErrorIs(t, err, provider.ErrInvalidToken)
	require.Len(t, events, 1)
	assert.NotContains(t, events[0].Reason, "grant revoked")
	assert.Equal(t, "token presented from another client IP or User-Agent; revoking the grant failed", events[0].Reason)
	_, err = e.p.ValidateAccessToken(apiRequest("192.0.2.1:4444", "Firefox", ""), tok["access_token"].(string))
	require.NoError(t, err, "the grant indeed lives on")

	// Presented from elsewhere again once the store answers: revoked, and said so.
	ft.revokeErr = nil
	events = nil
	_, err = e.p.ValidateAccessToken(apiRequest("192.0.2.1:5555", "curl/8", ""), tok["access_token"].(string))
	require.ErrorIs(t, err, provider.ErrInvalidToken)
	require.Len(t, events, 1)
	assert.Equal(t, "token presented from another client IP or User-Agent; grant revoked", events[0].Reason)
}

// docs/security.md: introspection does not check the binding (the caller
// is a resource server, not the presenter), so a bound token is active to
// it from any address and User-Agent, and introspecting it revokes nothing.
func TestBindingIsNotCheckedByIntrospection(t *testing.T) {
	e := newBoundEnv(t)
	tok := e.issueFrom(t, "192.0.2.1:4444", "Firefox")
	access := tok["access_token"].(string)

	w := call(e.p.IntrospectHandler(), req{form: tokenForm(access), basic: []string{"other", otherSecret},
		remoteAddr: "198.51.100.7:443", header: http.Header{"User-Agent": {"resource-server/1"}}})
	require.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body.String())
	assertNoStore(t, w)
	assert.Contains(t, w.Body.String(), `"active":true`)

	_, err := e.p.ValidateAccessToken(apiRequest("192.0.2.1:5555", "Firefox", ""), access)
	assert.NoError(t, err, "the grant is not revoked: the rightful client still uses it")
}

// leavingTokens is a token store whose lookups end the request (leave: its
// client goes once the token is found) and whose revocations fail once
// their context is done, as a networked store's do.
type leavingTokens struct {
	storage.TokenStore
	leave func()
}

func (s leavingTokens) LookupToken(ctx context.Context, k storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	ti, err := s.TokenStore.LookupToken(ctx, k, ref)
	s.leave()
	return ti, err
}

func (s leavingTokens) RevokeGrant(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.TokenStore.RevokeGrant(ctx, id)
}

// A binding mismatch ends the grant even when the request's client has
// gone by the time of the revocation: it must not be undone by the end of
// the request's context.
func TestBindingMismatchRevokesAfterTheClientHasGone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	e := newEnv(t, func(c *provider.Config) {
		c.BindingKey = bindingKey
		c.Tokens = leavingTokens{TokenStore: c.Tokens, leave: cancel}
	})
	raw, _, err := e.p.CreateSession(sessionRequest(), "user-1", nil, time.Hour)
	require.NoError(t, err)
	_, err = e.p.ValidateSession(apiRequest("192.0.2.1:1", "curl/8", "").WithContext(ctx), raw)
	require.ErrorIs(t, err, provider.ErrInvalidToken)
	assert.NotErrorIs(t, err, context.Canceled, "the revocation did not fail")
	ref, err := token.Parse(storage.KindSession, raw)
	require.NoError(t, err)
	_, err = e.store.LookupToken(context.Background(), storage.KindSession, ref)
	assert.ErrorIs(t, err, storage.ErrNotFound, "the session has ended")
}

// A refresh whose Check runs (binding on, or a narrowed scope) still
// passes a grant that is not checked: one issued while binding was off,
// refreshed with binding on, and one bound, refreshed with binding off.
func TestBindingRefreshOfAnUncheckedGrant(t *testing.T) {
	e := newEnv(t, nil)
	unbound := e.issueFrom(t, "192.0.2.1:4444", "Firefox")["refresh_token"].(string)
	on, err := provider.New(provider.Config{Clients: e.store, Tokens: e.store, BindingKey: bindingKey, Now: e.clock.Now})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	on.TokenHandler().ServeHTTP(w, req{form: refresh(unbound), basic: conf,
		remoteAddr: "198.51.100.1:1", header: http.Header{"User-Agent": {"curl/8"}}}.build())
	assertToken(t, w)

	bound := newBoundEnv(t)
	tok := bound.issueFrom(t, "192.0.2.1:4444", "Firefox")["refresh_token"].(string)
	off, err := provider.New(provider.Config{Clients: bound.store, Tokens: bound.store, Now: bound.clock.Now})
	require.NoError(t, err)
	w = httptest.NewRecorder()
	off.TokenHandler().ServeHTTP(w, req{form: refresh(tok, "scope", "read"), basic: conf,
		remoteAddr: "198.51.100.1:1", header: http.Header{"User-Agent": {"curl/8"}}}.build())
	assertToken(t, w)
}
