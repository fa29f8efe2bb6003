package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// The client's backend exchanges the code from its own address and
// User-Agent; the browser that got the code has others.
const (
	codeClientAddr = "198.51.100.5:4444"
	codeClientUA   = "client-backend/1"
	browserAddr    = "192.0.2.1:1234" // httptest.NewRequest's
)

// invalidTokenChallenge is the bearer challenge of a refused token under
// the test provider's realm.
const invalidTokenChallenge = `Bearer realm="test-realm", error="invalid_token", error_description="the access token is invalid, expired or revoked"`

// codeBindEnv is an authorization code env with binding on that records
// binding_mismatch events, and a route protected by policy.Bearer.
type codeBindEnv struct {
	*azEnv
	api        http.Handler
	mismatches []provider.Event
}

func newCodeBindEnv(t *testing.T, key []byte) *codeBindEnv {
	t.Helper()
	e := &codeBindEnv{}
	e.azEnv = newAuthzEnv(t, func(c *provider.Config) {
		c.BindingKey = key
		c.Events = func(_ context.Context, ev provider.Event) {
			if ev.Type == provider.EventBindingMismatch {
				e.mismatches = append(e.mismatches, ev)
			}
		}
	}, nil)
	e.api = policy.Bearer(e.p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	return e
}

// tokens runs the code flow: the browser (httptest's 192.0.2.1:1234,
// without a User-Agent) is sent the code, the client's backend exchanges
// it; it returns the token response.
func (e *codeBindEnv) tokens(t *testing.T) map[string]any {
	t.Helper()
	code := e.code(t, spaParams(), "user-1")
	return assertToken(t, e.do(req{form: exchange(code), remoteAddr: codeClientAddr,
		header: http.Header{"User-Agent": {codeClientUA}}}))
}

// call presents access to the protected route from remoteAddr with ua.
func (e *codeBindEnv) call(access, remoteAddr, ua string) *httptest.ResponseRecorder {
	r := apiRequest(remoteAddr, ua, "")
	r.Header.Set("Authorization", "Bearer "+access)
	w := httptest.NewRecorder()
	e.api.ServeHTTP(w, r)
	return w
}

// refresh refreshes with rt from the client's address with ua.
func (e *codeBindEnv) refresh(rt, ua string) *httptest.ResponseRecorder {
	return e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {rt}},
		remoteAddr: codeClientAddr, header: http.Header{"User-Agent": {ua}}})
}

// A grant of the authorization code flow is bound at the code exchange,
// to the client that exchanged the code: its tokens work from there, and
// from anywhere else (the browser that got the code included) they are
// refused and the grant is revoked, as a password grant's are.
func TestBindingCodeGrantIsBoundAtTheExchange(t *testing.T) {
	tests := []struct {
		name           string
		remoteAddr, ua string
		valid          bool
	}{
		{"the client that exchanged the code passes", codeClientAddr, codeClientUA, true},
		{"another port of the client's address passes", "198.51.100.5:1", codeClientUA, true},
		{"another User-Agent is invalid_token and revokes the grant", codeClientAddr, "curl/8", false},
		{"another client IP is invalid_token and revokes the grant", "203.0.113.9:4444", codeClientUA, false},
		{"the browser the code was issued to is refused", browserAddr, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newCodeBindEnv(t, bindingKey)
			tok := e.tokens(t)
			access, rt := tok["access_token"].(string), tok["refresh_token"].(string)
			grantID := access[4:26] // oat_<grant ID>…

			w := e.call(access, tc.remoteAddr, tc.ua)
			if tc.valid {
				assert.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
				ti, err := e.p.ValidateAccessToken(apiRequest(tc.remoteAddr, tc.ua, ""), access)
				require.NoError(t, err)
				assert.Equal(t, e.p.Fingerprint(apiRequest(codeClientAddr, codeClientUA, "")), ti.Grant.Binding,
					"bound to the token request's fingerprint")
				assert.Empty(t, e.mismatches)
				return
			}
			assert.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Equal(t, invalidTokenChallenge, w.Header().Get("WWW-Authenticate"))
			require.Len(t, e.mismatches, 1)
			assert.Equal(t, provider.Event{Type: provider.EventBindingMismatch, Time: e.clock.Now(), ClientID: "spa",
				UserID: "user-1", GrantID: grantID, IP: netip.MustParseAddrPort(tc.remoteAddr).Addr(),
				Reason: "token presented from another client IP or User-Agent; grant revoked"}, e.mismatches[0])

			w = e.call(access, codeClientAddr, codeClientUA)
			assert.Equal(t, http.StatusUnauthorized, w.Code, "the grant is revoked: the rightful client is refused too")
			assert.Equal(t, invalidTokenChallenge, w.Header().Get("WWW-Authenticate"))
			assertError(t, e.refresh(rt, codeClientUA), http.StatusBadRequest, "invalid_grant")
		})
	}
}

// The refresh token of a code grant is bound too: from another
// User-Agent it is invalid_grant, consumes nothing and ends the grant;
// from the client's it rotates, and the new tokens stay bound.
func TestBindingCodeGrantRefresh(t *testing.T) {
	e := newCodeBindEnv(t, bindingKey)
	tok := e.tokens(t)
	assertError(t, e.refresh(tok["refresh_token"].(string), "curl/8"), http.StatusBadRequest, "invalid_grant")
	require.Len(t, e.mismatches, 1)
	assert.Equal(t, tok["access_token"].(string)[4:26], e.mismatches[0].GrantID)
	assert.Equal(t, http.StatusUnauthorized, e.call(tok["access_token"].(string), codeClientAddr, codeClientUA).Code,
		"the grant is revoked")
	assertError(t, e.refresh(tok["refresh_token"].(string), codeClientUA), http.StatusBadRequest, "invalid_grant")

	// The rightful client refreshes as before, and the new pair is bound.
	tok = e.tokens(t)
	next := assertToken(t, e.refresh(tok["refresh_token"].(string), codeClientUA))
	assert.Equal(t, http.StatusNoContent, e.call(next["access_token"].(string), codeClientAddr, codeClientUA).Code)
	assert.Equal(t, http.StatusUnauthorized, e.call(next["access_token"].(string), codeClientAddr, "curl/8").Code)
	assert.Len(t, e.mismatches, 2)
}

// With binding off a code grant stays unbound: its tokens work from any
// address and User-Agent.
func TestBindingOffLeavesCodeGrantsUnbound(t *testing.T) {
	e := newCodeBindEnv(t, nil)
	tok := e.tokens(t)
	access := tok["access_token"].(string)
	ti, err := e.p.ValidateAccessToken(apiRequest("203.0.113.9:1", "curl/8", ""), access)
	require.NoError(t, err)
	assert.Empty(t, ti.Grant.Binding)
	assert.Equal(t, http.StatusNoContent, e.call(access, browserAddr, "").Code)
	assertToken(t, e.refresh(tok["refresh_token"].(string), "curl/8"))
}

// bindIgnoringStore is a token store written before storage.Exchange.Bind:
// it drops the field. It records the grants the provider revokes.
type bindIgnoringStore struct {
	storage.TokenStore
	exchanged, revoked []string
}

func (s *bindIgnoringStore) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	x.Bind = ""
	g, err := s.TokenStore.ExchangeToken(ctx, x)
	if err == nil {
		s.exchanged = append(s.exchanged, g.ID)
	}
	return g, err
}

func (s *bindIgnoringStore) RevokeGrant(ctx context.Context, id string) error {
	s.revoked = append(s.revoked, id)
	return s.TokenStore.RevokeGrant(ctx, id)
}

// With binding on, a store that does not bind the grant at the code
// exchange gets no tokens handed out unbound: the answer is 503 and the
// grant is revoked. With binding off nothing is asked of it.
func TestCodeExchangeFailsClosedWhenTheStoreIgnoresBind(t *testing.T) {
	for _, key := range [][]byte{bindingKey, nil} {
		var st *bindIgnoringStore
		e := newAuthzEnv(t, func(c *provider.Config) {
			c.BindingKey = key
			st = &bindIgnoringStore{TokenStore: c.Tokens}
			c.Tokens = st
		}, nil)
		code := e.code(t, spaParams(), "user-1")
		w := e.do(req{form: exchange(code), remoteAddr: codeClientAddr, header: http.Header{"User-Agent": {codeClientUA}}})
		if key == nil {
			assertToken(t, w)
			assert.Empty(t, st.revoked, "binding off")
			continue
		}
		assertError(t, w, http.StatusServiceUnavailable, provider.CodeTemporarilyUnavailable)
		require.Len(t, st.exchanged, 1)
		assert.Equal(t, st.exchanged, st.revoked, "the grant the store returned unbound is revoked")
	}
}
