package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
)

// Through the provider's endpoints, not the store alone: a bearer
// validation is one statement, and so is a refresh once the client is
// cached (Config.ClientCacheTTL); without the cache the refresh reads the
// client first.
func TestStatements_ThroughTheProvider(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ttl     time.Duration
		refresh int64
	}{
		{"cached", 5 * time.Second, 1},
		{"uncached", 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, clk, counter := newCountedStore(t)
			e := providertest.New(t, s, s, tc.ttl, clk.Now)
			m := e.Refresh(t, e.Password(t)["refresh_token"].(string)) // prepares, fills the cache
			e.Validate(t, m["access_token"].(string))                  // prepares

			counter.reset()
			m = e.Refresh(t, m["refresh_token"].(string))
			assert.Equal(t, tc.refresh, counter.queries.Load(), "statements per refresh")
			counter.reset()
			e.Validate(t, m["access_token"].(string))
			assert.EqualValues(t, 1, counter.queries.Load(), "statements per validation")
			assert.Zero(t, counter.prepares.Load())
		})
	}
}
