package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// grantSwapStore answers every LookupToken with the record under another
// grant ID, as a store indexing tokens by hash alone and mixing up its
// rows would.
type grantSwapStore struct {
	*testStore
}

func (s grantSwapStore) LookupToken(ctx context.Context, kind storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	ti, err := s.testStore.LookupToken(ctx, kind, ref)
	if err == nil {
		ti.Grant.ID = "another-grant"
	}
	return ti, err
}

// RFC 6749 §1.4: an access token is valid until its expiry, which the
// provider judges by its own clock: at the instant of expiry it is
// refused even when the store, whose clock is behind, still returns it.
func TestValidateAccessTokenExpiresAtItsExpiryByTheProvidersClock(t *testing.T) {
	e := newEnv(t, nil)
	lag := newTestStore(func() time.Time { return e.clock.Now().Add(-time.Minute) })
	for _, c := range []string{"conf"} {
		cl, err := e.store.GetClient(context.Background(), c)
		require.NoError(t, err)
		require.NoError(t, lag.CreateClient(context.Background(), cl))
	}
	p, err := provider.New(provider.Config{Clients: lag, Tokens: lag, Users: users,
		Scopes: []string{"read", "write"}, Now: e.clock.Now})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	p.TokenHandler().ServeHTTP(w, req{form: password(), basic: conf}.build())
	at := assertToken(t, w)["access_token"].(string)
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)

	e.clock.Advance(time.Hour - time.Nanosecond)
	_, err = p.ValidateAccessToken(r, at)
	require.NoError(t, err, "valid until the last instant before expiry")

	e.clock.Advance(time.Nanosecond) // now == ExpiresAt; the store's clock says a minute earlier
	ti, err := p.ValidateAccessToken(r, at)
	assert.ErrorIs(t, err, provider.ErrInvalidToken)
	assert.Nil(t, ti)
}

// A record of another grant than the one the token names is refused,
// whatever the store answered.
func TestValidateAccessTokenRefusesARecordOfAnotherGrant(t *testing.T) {
	e := newEnv(t, nil)
	p, err := provider.New(provider.Config{Clients: e.store, Tokens: grantSwapStore{e.store}, Users: users,
		Scopes: []string{"read", "write"}, Now: e.clock.Now})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	p.TokenHandler().ServeHTTP(w, req{form: password(), basic: conf}.build())
	at := assertToken(t, w)["access_token"].(string)
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	ti, err := p.ValidateAccessToken(r, at)
	assert.ErrorIs(t, err, provider.ErrInvalidToken)
	assert.Nil(t, ti)
}

// ValidateAccessTokenInto over a store that is no [storage.TokenInfoFiller]
// fills dst from LookupToken.
func TestValidateAccessTokenIntoWithoutAFiller(t *testing.T) {
	e := newEnv(t, nil)
	tokens := struct{ storage.TokenStore }{e.store} // hides LookupTokenInto
	p, err := provider.New(provider.Config{Clients: e.store, Tokens: tokens, Users: users,
		Scopes: []string{"read", "write"}, Now: e.clock.Now})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	p.TokenHandler().ServeHTTP(w, req{form: password("scope", "read"), basic: conf}.build())
	at := assertToken(t, w)["access_token"].(string)
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	var dst storage.TokenInfo
	require.NoError(t, p.ValidateAccessTokenInto(r, at, &dst))
	assert.Equal(t, "conf", dst.Grant.ClientID)
	assert.Equal(t, "user-1", dst.Grant.UserID)
	assert.Equal(t, []string{"read"}, dst.EffectiveScopes())
	assert.Equal(t, storage.KindAccess, dst.Token.Kind)
}
