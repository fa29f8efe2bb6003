package providertest

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// Store is a networked store for [CheckRoundTrips]: its clients and
// tokens (fresh, with no client registered), its clock, and a count of
// the round trips it has made so far.
type Store struct {
	Clients storage.ClientStore
	Tokens  storage.TokenStore
	Now     func() time.Time // nil: time.Now
	Trips   func() int64
}

// CheckRoundTrips checks, through the provider's endpoints rather than
// the store alone, that a bearer validation costs the store one round
// trip, and so does a refresh once the client is cached
// (Config.ClientCacheTTL); without the cache the refresh reads the client
// first, two. A password grant (with the provider's in-process limiter)
// is two: the client, then the grant. newStore makes a fresh store for
// each case.
func CheckRoundTrips(t *testing.T, newStore func(t *testing.T) Store) {
	for _, tc := range []struct {
		name    string
		ttl     time.Duration
		refresh int64
	}{
		{"cached", 5 * time.Second, 1},
		{"uncached", 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			p := NewProviderOn(t, s.Clients, s.Tokens, func(c *provider.Config) {
				c.ClientCacheTTL, c.Now = tc.ttl, s.Now
			})
			h := p.TokenHandler()
			// Warm up: loads scripts, prepares statements, fills the cache.
			tok := Grant(t, h, RefreshGrant(Grant(t, h, PasswordGrant("read")).RefreshToken))
			_, err := p.ValidateAccessToken(httptest.NewRequest(http.MethodGet, "/", nil), tok.AccessToken)
			require.NoError(t, err)

			count := func(do func()) int64 {
				before := s.Trips()
				do()
				return s.Trips() - before
			}
			assert.Equal(t, tc.refresh, count(func() { tok = Grant(t, h, RefreshGrant(tok.RefreshToken)) }), "round trips per refresh")
			// The client is read, then the grant and its tokens written
			// (with the user's and client's indexes) in one round trip.
			assert.EqualValues(t, 2, count(func() { Grant(t, h, PasswordGrant("read")) }), "round trips per password grant")
			assert.EqualValues(t, 1, count(func() {
				_, err := p.ValidateAccessToken(httptest.NewRequest(http.MethodGet, "/", nil), tok.AccessToken)
				require.NoError(t, err)
			}), "round trips per validation")
		})
	}
}
