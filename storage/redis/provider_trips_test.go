package redis

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
)

// Through the provider's endpoints, not the store alone: a bearer
// validation is one round trip, and so is a refresh once the client is
// cached (Config.ClientCacheTTL); without the cache the refresh reads the
// client first.
func TestRoundTrips_ThroughTheProvider(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ttl     time.Duration
		refresh int64
	}{
		{"cached", 5 * time.Second, 1},
		{"uncached", 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := singleClient(t).(*goredis.Client)
			rdb := goredis.NewClient(base.Options())
			t.Cleanup(func() { _ = rdb.Close() })
			var trips tripCounter
			rdb.AddHook(&trips)
			s, _ := newStore(t, rdb, nil)
			e := providertest.New(t, s, s, tc.ttl, nil)
			m := e.Refresh(t, e.Password(t)["refresh_token"].(string)) // loads the scripts, fills the cache

			assert.Equal(t, tc.refresh, trips.count(func() { m = e.Refresh(t, m["refresh_token"].(string)) }), "round trips per refresh")
			assert.EqualValues(t, 1, trips.count(func() { e.Validate(t, m["access_token"].(string)) }), "round trips per validation")
		})
	}
}
