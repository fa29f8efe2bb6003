package redis

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
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
