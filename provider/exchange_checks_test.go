package provider_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/testclock"
	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// The code exchange checks what the store is asked to check as well, in
// its Check: the tests below use a store that checks less than it should
// (or judges time by another clock), so that only the provider's own
// check stands between the code and its tokens.

// clientBlindStore is a token store that ignores Exchange.ClientID: it
// exchanges any client's code, as a store with that bug would.
type clientBlindStore struct {
	storage.TokenStore
	owner string // the client every exchange is made for
}

func (s clientBlindStore) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	x.ClientID = s.owner
	return s.TokenStore.ExchangeToken(ctx, x)
}

func TestCodeGrantRefusesAnotherClientsCodeEvenIfTheStoreDoesNot(t *testing.T) {
	e := newAuthzEnv(t, func(cfg *provider.Config) {
		cfg.Tokens = clientBlindStore{TokenStore: cfg.Tokens, owner: "spa"}
	}, nil)
	// "first" is public, so it needs only to name itself; everything else
	// in the request (redirect_uri, verifier) is right for spa's code.
	code := e.code(t, spaParams(), "user-1")
	assertError(t, e.do(req{form: exchange(code, "client_id", "first")}), 400, "invalid_grant")
	assertToken(t, e.do(req{form: exchange(code)})) // nothing was consumed
}

// A code expires by the provider's clock (Config.Now), whatever the
// store's says: exactly its lifetime (60 s) after it was issued, it is
// refused.
func TestCodeGrantExpiresByTheProviderClock(t *testing.T) {
	frozen := testclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) // the store's clock: never moves
	e := newAuthzEnv(t, func(cfg *provider.Config) {
		cfg.Tokens = memory.New(memory.Config{Now: frozen.Now})
	}, nil)
	code := e.code(t, spaParams(), "user-1")
	e.clock.Advance(60 * time.Second)
	assertError(t, e.do(req{form: exchange(code)}), 400, "invalid_grant")

	code = e.code(t, spaParams(), "user-1")
	e.clock.Advance(60*time.Second - time.Nanosecond)
	assertToken(t, e.do(req{form: exchange(code)}))
}

// A public client's code without a code_challenge cannot be issued (the
// authorization endpoint requires PKCE of public clients); one found in
// the store anyway is refused at the token endpoint, where nothing but the
// client_id would otherwise protect it.
func TestCodeGrantRefusesAPublicClientsCodeWithoutChallenge(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	now := e.clock.Now()
	gid, err := token.NewGrantID()
	require.NoError(t, err)
	raw, ref, err := token.New(storage.KindCode, gid)
	require.NoError(t, err)
	require.NoError(t, e.store.CreateGrant(context.Background(), &storage.Grant{
		ID: gid, ClientID: "spa", UserID: "user-1", Scopes: []string{"read"},
		CreatedAt: now, ExpiresAt: now.Add(time.Minute),
		Code: &storage.CodeBinding{RedirectURI: "https://spa.example/cb"},
	}, storage.Token{Hash: ref.Hash, Kind: storage.KindCode, GrantID: gid, IssuedAt: now, ExpiresAt: now.Add(time.Minute)}))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {raw}, "client_id": {"spa"},
		"redirect_uri": {"https://spa.example/cb"}}
	assertError(t, e.do(req{form: form}), 400, "invalid_grant")
}

// A code exchange whose client has gone (its request's context ended)
// before the exchange consumes nothing: the code still works.
func TestCodeGrantOfAGoneClientConsumesNothing(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	code := e.code(t, spaParams(), "user-1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assertError(t, e.do(req{form: exchange(code), ctx: ctx}), 503, "temporarily_unavailable")
	assertToken(t, e.do(req{form: exchange(code)}))
}

// A code found in the store whose grant carries no code binding (no
// redirect_uri or PKCE record: a store that lost it, or a grant written
// by hand) is refused as invalid_grant: without the binding there is
// nothing to check the request against, so it must not be exchanged, nor
// crash the check.
func TestCodeGrantRefusesACodeWhoseGrantHasNoBinding(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	now := e.clock.Now()
	gid, err := token.NewGrantID()
	require.NoError(t, err)
	raw, ref, err := token.New(storage.KindCode, gid)
	require.NoError(t, err)
	require.NoError(t, e.store.CreateGrant(context.Background(), &storage.Grant{
		ID: gid, ClientID: "spa", UserID: "user-1", Scopes: []string{"read"},
		CreatedAt: now, ExpiresAt: now.Add(time.Minute),
	}, storage.Token{Hash: ref.Hash, Kind: storage.KindCode, GrantID: gid, IssuedAt: now, ExpiresAt: now.Add(time.Minute)}))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {raw}, "client_id": {"spa"},
		"redirect_uri": {"https://spa.example/cb"}}
	assertError(t, e.do(req{form: form}), 400, "invalid_grant")
}

// failingExchangeStore is a token store whose ExchangeToken alone fails,
// as a store does that goes down between the client's lookup and the
// exchange.
type failingExchangeStore struct {
	storage.TokenStore
	fail *atomic.Bool
}

func (s failingExchangeStore) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	if s.fail.Load() {
		return nil, errors.New("store unreachable at 10.1.2.3:5432")
	}
	return s.TokenStore.ExchangeToken(ctx, x)
}

// A store error of the exchange itself, neither not found nor reuse, is a
// 503 temporarily_unavailable with Retry-After that tells nothing of the
// cause (never invalid_grant, which would tell the client its code is
// bad), and the code still works once the store answers.
func TestCodeGrantExchangeOutageIs503(t *testing.T) {
	var fail atomic.Bool
	e := newAuthzEnv(t, func(cfg *provider.Config) {
		cfg.Tokens = failingExchangeStore{TokenStore: cfg.Tokens, fail: &fail}
	}, nil)
	code := e.code(t, spaParams(), "user-1")
	fail.Store(true)
	w := e.do(req{form: exchange(code)})
	fail.Store(false)
	assertError(t, w, http.StatusServiceUnavailable, "temporarily_unavailable")
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Equal(t, "application/json", strings.Split(w.Header().Get("Content-Type"), ";")[0])
	assert.NotContains(t, w.Body.String(), "10.1.2.3")
	assertToken(t, e.do(req{form: exchange(code)}))
}
