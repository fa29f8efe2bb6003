package redis

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// Through the provider: a validation is one round trip, a refresh one
// with the client cache and two without it, a password grant two.
func TestRoundTrips_ThroughTheProvider(t *testing.T) {
	providertest.CheckRoundTrips(t, func(t *testing.T) providertest.Store {
		base := singleClient(t).(*goredis.Client)
		rdb := goredis.NewClient(base.Options())
		t.Cleanup(func() { _ = rdb.Close() })
		var trips tripCounter
		rdb.AddHook(&trips)
		s, _ := newStore(t, rdb, nil)
		return providertest.Store{Clients: s, Tokens: s, Trips: trips.n.Load}
	})
}

// Through the provider: a successful password grant costs a Redis
// Limiter two round trips, one to reserve its per-IP and per-user keys
// (ReserveAll) and one to refund them (RefundAll), where reserving and
// refunding key by key cost four. (The client's secret is a generated
// one, which is not throttled.)
func TestLimiterRoundTrips_ThroughTheProvider(t *testing.T) {
	var trips tripCounter
	l := newHookedLimiter(t, &trips)
	store := memory.New(memory.Config{})
	p := providertest.NewProviderOn(t, store, store, func(c *provider.Config) { c.Limiter = l })
	h := p.TokenHandler()
	providertest.Grant(t, h, providertest.PasswordGrant("read")) // warm up: loads the scripts
	for range 3 {
		assert.EqualValues(t, 2, trips.count(func() { providertest.Grant(t, h, providertest.PasswordGrant("read")) }),
			"limiter round trips per password grant")
	}
}

// A client_id of any bytes is an unknown client at every endpoint.
func TestMalformedClientIDs_ThroughTheProvider(t *testing.T) {
	s, _ := newStore(t, singleClient(t), nil)
	providertest.CheckMalformedClientIDs(t, s, s)
}
