package provider_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// A refresh token a rotation issues lives for RefreshTokenTTL, as the
// first one does, not for the access token's lifetime.
func TestRotatedRefreshTokenLivesForRefreshTokenTTL(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.AccessTokenTTL = time.Minute; c.RefreshTokenTTL = time.Hour })
	rt := e.issue(t)["refresh_token"].(string)
	m := assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic: conf}))
	assert.Equal(t, float64(60), m["expires_in"])

	e.clock.Advance(time.Hour - time.Second) // the new access token is long gone
	m = assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}, basic: conf}))

	e.clock.Advance(time.Hour)
	w := e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}, basic: conf})
	assertError(t, w, 400, "invalid_grant")
}

// The token_issued event is dated when the tokens were minted, their
// issue time, even when the provider's clock has moved on by the time the
// event is reported.
func TestTokenIssuedEventTimeIsTheTokensIssueTime(t *testing.T) {
	var (
		mu     sync.Mutex
		events []provider.Event
		ticks  atomic.Int64
	)
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := newEnv(t, func(c *provider.Config) {
		c.Now = func() time.Time { return base.Add(time.Duration(ticks.Add(1)) * time.Millisecond) } // every reading later
		c.Events = func(_ context.Context, ev provider.Event) {
			mu.Lock()
			defer mu.Unlock()
			if ev.Type == provider.EventTokenIssued {
				events = append(events, ev)
			}
		}
	})
	m := e.issue(t)
	rt := m["refresh_token"].(string)
	m2 := assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic: conf}))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, events, 2)
	for i, at := range []string{m["access_token"].(string), m2["access_token"].(string)} {
		ti, err := e.validate(at)
		require.NoError(t, err)
		assert.True(t, ti.Token.IssuedAt.Equal(events[i].Time), "%s: event at %v, token issued at %v",
			events[i].GrantType, events[i].Time, ti.Token.IssuedAt)
	}
}

// A grant records when it was made; a refresh leaves that alone.
func TestGrantCreatedAtIsWhenItWasIssued(t *testing.T) {
	e := newEnv(t, nil)
	issuedAt := e.clock.Now()
	m := e.issue(t)
	e.clock.Advance(time.Minute)
	m = assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}, basic: conf}))
	ti, err := e.validate(m["access_token"].(string))
	require.NoError(t, err)
	assert.True(t, issuedAt.Equal(ti.Grant.CreatedAt), "created at %v, want %v", ti.Grant.CreatedAt, issuedAt)
}

// grantRecorder records the grants CreateGrant is given.
type grantRecorder struct {
	*testStore
	mu     sync.Mutex
	grants []storage.Grant
}

func (s *grantRecorder) CreateGrant(ctx context.Context, g *storage.Grant, tokens ...storage.Token) error {
	s.mu.Lock()
	s.grants = append(s.grants, *g)
	s.mu.Unlock()
	return s.testStore.CreateGrant(ctx, g, tokens...)
}

// A new grant is handed to the store with an expiry as late as its
// latest token's (storage.Grant.ExpiresAt): the refresh token's when it
// has one, else the access token's.
func TestNewGrantExpiresWithItsLatestToken(t *testing.T) {
	e := newEnv(t, nil)
	rec := &grantRecorder{testStore: e.store}
	p, err := provider.New(provider.Config{Clients: e.store, Tokens: rec, Users: users,
		Scopes: []string{"read", "write"}, Now: e.clock.Now, AccessTokenTTL: time.Minute, RefreshTokenTTL: time.Hour})
	require.NoError(t, err)
	now := e.clock.Now()
	for _, form := range []url.Values{password(), {"grant_type": {"client_credentials"}}} {
		w := httptest.NewRecorder()
		p.TokenHandler().ServeHTTP(w, req{form: form, basic: conf}.build())
		assertToken(t, w)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.grants, 2)
	assert.Equal(t, now.Add(time.Hour), rec.grants[0].ExpiresAt, "password grant: the refresh token's expiry")
	assert.Equal(t, now.Add(time.Minute), rec.grants[1].ExpiresAt, "client_credentials: the access token's expiry")
}
